"""`burnin sandbox` commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Sandboxes for untrusted code: build, check, run, kernel.", no_args_is_help=True)

BackendOpt = Annotated[str, typer.Option("--backend", help="auto, docker or bwrap")]


def _backend(prefer: str) -> Any:
    from sandbox.backend import NoBackend
    from server.config import Settings
    from server.notebooks.backend import make_backend
    if prefer not in ("auto", "docker", "bwrap"):
        raise typer.BadParameter("backend must be auto, docker or bwrap")
    try:
        backend = make_backend(Settings(), prefer)  # type: ignore[arg-type]  # checked above
    except NoBackend as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    if backend.name == "bwrap":
        typer.secho(f"warning: {backend.weaker_isolation}", fg="yellow", err=True)  # type: ignore[attr-defined]
    return backend


@app.command()
def build(
    base: Annotated[str, typer.Option(help="Base image (made with debootstrap if missing)")]
    = "burnin-base:bookworm",
    force: Annotated[bool, typer.Option(help="Rebuild even if the tag exists")] = False,
    export_rootfs: Annotated[bool, typer.Option(help="Also unpack it for the bwrap backend")]
    = True,
) -> None:
    """Build the sandbox image offline (tag = hash of its inputs)."""
    import docker  # type: ignore[import-untyped]

    from sandbox.image import ImageBuildError, build_image, rootfs_dir
    from sandbox.image import export_rootfs as export
    client = docker.from_env(timeout=600)
    try:
        built = build_image(client, base=base, force=force, log=lambda m: typer.echo(m, err=True))
        if export_rootfs:
            export(client, built.tag, rootfs_dir(built.tag), log=lambda m: typer.echo(m, err=True))
    except ImageBuildError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    word = "reused" if built.reused else "built"
    typer.echo(f"{word} {built.tag} in {built.seconds:.1f}s (also tagged burnin-sandbox:latest)")


@app.command()
def check(backend: BackendOpt = "auto") -> None:
    """Say which backend is active and verify the hardening of a live sandbox."""
    chosen = _backend(backend)
    runtime = getattr(chosen, "runtime", None)
    typer.echo(f"backend: {chosen.name}" + (f" (runtime {runtime})" if runtime else ""))
    if chosen.name == "docker":
        from sandbox.check import check_docker
        results = check_docker(chosen)
        for item in results:
            mark = typer.style("ok  ", fg="green") if item.ok else typer.style("FAIL", fg="red")
            typer.echo(f"  {mark} {item.name}: {item.detail}")
        if not all(item.ok for item in results):
            raise typer.Exit(1)
    else:
        from sandbox.limits import SandboxLimits
        res = chosen.run(["sh", "-c", "id -u; ls /sys/class/net; grep CapEff /proc/self/status"],
                         limits=SandboxLimits())
        typer.echo(res.stdout + res.stderr)
    typer.echo("sandbox hardening verified")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    backend: BackendOpt = "auto",
    memory_mib: Annotated[int, typer.Option()] = 512,
    wall_s: Annotated[float, typer.Option()] = 30.0,
) -> None:
    """Run one command in a fresh sandbox: burnin sandbox run -- python -c 'print(1)'."""
    from sandbox.limits import LimitError, SandboxLimits
    command = list(ctx.args)
    if not command:
        raise typer.BadParameter("give a command after --")
    try:
        limits = SandboxLimits(memory_mib=memory_mib, wall_s=wall_s)
    except LimitError as exc:
        raise typer.BadParameter(str(exc)) from exc
    stdin = b"" if sys.stdin.isatty() else sys.stdin.buffer.read(1024 * 1024)
    result = _backend(backend).run(command, limits=limits, stdin=stdin)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    extra = " (output truncated)" if result.truncated else ""
    cpu = f", cpu {result.cpu_s:.2f}s" if result.cpu_s is not None else ""
    typer.secho(f"[{result.status.value}] exit {result.exit_code}, wall {result.wall_s:.2f}s"
                f"{cpu}{extra} {result.detail}".rstrip(), err=True, fg="cyan")
    raise typer.Exit(0 if result.ok else (result.exit_code or 1))


@app.command()
def kernel(
    backend: BackendOpt = "auto",
    timeout_s: Annotated[float, typer.Option(help="Per-cell timeout")] = 60.0,
    save: Annotated[Path | None, typer.Option(help="Write the session as .ipynb on exit")] = None,
) -> None:
    """Interactive kernel session. A line ending in ':' or '\\' continues until a blank line."""
    from sandbox.limits import SandboxLimits
    from sandbox.pool import KernelPool
    chosen = _backend(backend)
    limits = SandboxLimits(wall_s=timeout_s, memory_mib=1024)
    started = time.monotonic()
    with KernelPool(chosen, size=1, limits=limits, max_parallel_starts=1) as pool:
        session = pool.acquire(timeout_s=120)
        typer.echo(f"kernel ready in {time.monotonic() - started:.1f}s; Ctrl-D to quit, "
                   "Ctrl-C interrupts a running cell")
        count = 1
        while True:
            try:
                lines = [input(f"In [{count}]: ")]
                while lines[-1].rstrip().endswith((":", "\\")) or (len(lines) > 1 and lines[-1]):
                    lines.append(input("   ...: "))
            except EOFError:
                break
            except KeyboardInterrupt:
                typer.echo("")
                continue
            code = "\n".join(lines).strip()
            if not code:
                continue

            def show(out: dict[str, Any]) -> None:
                if out["output_type"] == "stream":
                    (sys.stderr if out["name"] == "stderr" else sys.stdout).write(out["text"])
                elif out["output_type"] in ("execute_result", "display_data"):
                    typer.echo(out["data"].get("text/plain", "<rich output>"))
                elif out["output_type"] == "error":
                    typer.echo("\n".join(out["traceback"]), err=True)
                sys.stdout.flush()

            try:
                result = session.execute(code, on_output=show)
            except KeyboardInterrupt:
                session.interrupt()
                continue
            if result.status not in ("ok", "error"):
                typer.secho(f"[{result.status}] {result.detail}", fg="yellow", err=True)
            if result.status in ("dead", "process_limit"):
                typer.secho("kernel died; restarting in a fresh sandbox", fg="yellow", err=True)
                session.restart()
            count += 1
        if save is not None:
            save.write_text(session.export_ipynb())
            typer.echo(f"saved {save}")
        session.close()
