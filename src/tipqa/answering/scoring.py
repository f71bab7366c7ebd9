"""Learned scores for answering: which candidate sentence answers the question, and how likely the short answer
picked from it is right. Both are logistic models over a few features of meaning (cosine of question and
sentence, retrieval scores, whether the sentence holds something of the kind asked for, whether what the question
names is in the passage), fitted by bench/fit_answers.py on labelled questions (never on eval/test_qa.jsonl) and
stored in weights.json beside this module. The answer model's output is a calibrated probability: it is the
confidence reported to users and what the abstention threshold reads.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).with_name("weights.json")

SENTENCE_FEATURES = ("dense", "dense_gap", "dense_rank", "neighbour_gap", "passage_dense", "passage_prior", "lexical",
                     "lexical_gap", "typed", "unmet", "named", "first_in_passage", "length", "few_words", "unfinished",
                     "symmetric", "symmetric_gap", "passage_coverage", "passage_coverage_gap", "cross_lingual", "note")
ANSWER_FEATURES = ("sentence_logit", "sentence_margin", "found", "found_sentence", "typed_question", "dense",
                   "passage_dense", "lexical", "unmet", "named", "names_something", "rivals", "answer_length",
                   "span_ranked", "span_probability", "symmetric", "symmetric_gap", "cross_lingual")


def quadratic(x: np.ndarray) -> np.ndarray:
    """The features with every product of two of them (squares included): a linear model over these reads how
    one feature changes what another means (a close cosine counts for more in a sentence of the kind asked for).
    On the sentence model this picked the answering sentence for 327 of 517 labelled questions against 299
    (five-fold, bench/fit_answers.py)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    i, j = np.triu_indices(x.shape[1])
    return np.hstack([x, x[:, i] * x[:, j]])


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(bias + weights . standardised(features)), the features first expanded by quadratic() when
    expand is set."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    expand: bool = False

    def logit(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.expand:
            x = quadratic(x)
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
                "weights": self.weights.round(6).tolist(), "bias": round(float(self.bias), 6),
                "expand": "quadratic" if self.expand else None}

    @classmethod
    def from_dict(cls, record: dict) -> "Logistic":
        return cls(tuple(record["names"]), np.array(record["mean"]), np.array(record["scale"]),
                   np.array(record["weights"]), float(record["bias"]), record.get("expand") == "quadratic")


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], l2: float = 1.0,
                 sample_weight: np.ndarray | None = None, steps: int = 50, expand: bool = False) -> Logistic:
    """L2-regularised logistic regression by Newton's method (a few features, a few thousand rows); names are the
    features before expansion."""
    x = quadratic(x) if expand else np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w_rows = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    theta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ theta)))
        gradient = z.T @ (w_rows * (p - y)) + penalty * theta
        hessian = (z * (w_rows * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(tuple(names), mean, scale, theta[:-1], float(theta[-1]), expand)


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees, fitted by scikit-learn's HistGradientBoostingClassifier (bench/
    fit_answers.py) and evaluated here with numpy alone: logit = base + the sum over trees of the value of the leaf
    each row reaches (a row goes left where its feature is <= the node's threshold). Every tree's nodes are padded
    to one length; a leaf has feature -1.

    DECIMALS: the features are read rounded to this many decimals, as they were fitted. A split then falls halfway
    between two steps of that grid, never next to a value met in fitting: fitted on raw values, a threshold lay
    1e-6 from a seed sentence's feature, and the numpy and ONNX question encoders (which agree to ~1e-6) gave its
    passage 0.9648 and 0.9605 (tests/test_fastencoder.py). None: raw values (trees saved before)."""

    names: tuple[str, ...]
    base: float
    feature: np.ndarray  # int[trees, nodes], -1 at leaves
    threshold: np.ndarray  # float[trees, nodes]
    left: np.ndarray  # int[trees, nodes]
    right: np.ndarray
    value: np.ndarray  # float[trees, nodes]: the leaves' values
    decimals: int | None = None

    def logit(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.decimals is not None:
            x = np.round(x, self.decimals)
        trees = np.arange(self.feature.shape[0])
        node = np.zeros((len(x), len(trees)), dtype=np.int64)
        for _ in range(self.feature.shape[1]):  # no tree is deeper than it has nodes
            feature = self.feature[trees, node]
            inner = feature >= 0
            if not inner.any():
                break
            values = np.take_along_axis(x, np.maximum(feature, 0), axis=1)
            step = np.where(values <= self.threshold[trees, node], self.left[trees, node], self.right[trees, node])
            node = np.where(inner, step, node)
        return self.base + self.value[trees, node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "kind": "trees", "base": round(self.base, 8),
                "feature": self.feature.tolist(), "threshold": self.threshold.round(8).tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(), "value": self.value.round(8).tolist(),
                "decimals": self.decimals}

    @classmethod
    def from_dict(cls, record: dict) -> "Trees":
        return cls(tuple(record["names"]), float(record["base"]), np.array(record["feature"], dtype=np.int64),
                   np.array(record["threshold"]), np.array(record["left"], dtype=np.int64),
                   np.array(record["right"], dtype=np.int64), np.array(record["value"]), record.get("decimals"))

    @classmethod
    def from_sklearn(cls, model, names: tuple[str, ...], decimals: int | None = None) -> "Trees":
        """From a fitted binary HistGradientBoostingClassifier on numeric features (its _predictors: one
        TreePredictor per iteration, whose nodes hold the thresholds on the values it was fitted on: rounded to
        DECIMALS, when given)."""
        predictors = [tree[0].nodes for tree in model._predictors]
        width = max(len(nodes) for nodes in predictors)
        shape = (len(predictors), width)
        feature, left, right = (np.full(shape, -1, dtype=np.int64), np.zeros(shape, dtype=np.int64),
                                np.zeros(shape, dtype=np.int64))
        threshold, value = np.zeros(shape), np.zeros(shape)
        for t, nodes in enumerate(predictors):
            n = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            feature[t, :n] = np.where(leaf, -1, nodes["feature_idx"])
            threshold[t, :n], left[t, :n], right[t, :n] = nodes["num_threshold"], nodes["left"], nodes["right"]
            value[t, :n] = np.where(leaf, nodes["value"], 0.0)
        return cls(tuple(names), float(np.ravel(model._baseline_prediction)[0]), feature, threshold, left, right, value,
                   decimals)

    @classmethod
    def mean(cls, bag: list["Trees"]) -> "Trees":
        """Several Trees as one whose logit is the mean of theirs (bench/fit_answers.py fits the sentence trees with
        five seeds): every tree kept, its leaves' values and the base divided by their number."""
        if not bag:
            raise ValueError("Trees.mean needs at least one Trees")
        if len(bag) == 1:
            return bag[0]
        width = max(t.feature.shape[1] for t in bag)

        def stacked(name: str, fill) -> np.ndarray:
            return np.vstack([np.pad(getattr(t, name), ((0, 0), (0, width - t.feature.shape[1])), constant_values=fill)
                              for t in bag])

        return cls(bag[0].names, float(np.mean([t.base for t in bag])), stacked("feature", -1),
                   stacked("threshold", 0.0), stacked("left", 0), stacked("right", 0),
                   stacked("value", 0.0) / len(bag), bag[0].decimals)


@dataclass(frozen=True)
class Blend:
    """The mean of two models' logits (the sentence model: the quadratic logistic model and trees over the same
    features; see bench/README.md, "Notes, ordinals and trees")."""

    first: Logistic
    second: Trees

    @property
    def names(self) -> tuple[str, ...]:
        return self.first.names

    def logit(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * (self.first.logit(x) + self.second.logit(x))

    def to_dict(self) -> dict:
        return {"kind": "blend", "first": self.first.to_dict(), "second": self.second.to_dict()}


def model_from_dict(record: dict):
    if record.get("kind") == "blend":
        return Blend(Logistic.from_dict(record["first"]), Trees.from_dict(record["second"]))
    return Trees.from_dict(record) if record.get("kind") == "trees" else Logistic.from_dict(record)


@dataclass(frozen=True)
class Models:
    sentence: Logistic | Blend  # P(this candidate sentence is the answering one)
    answer: Logistic  # P(the short answer picked from the best sentence is right)
    answer_at: float  # give a short answer at or above this probability
    closest_at: float  # else show the best sentence as the closest the reports come, at or above this
    fitted: dict  # what they were fitted on, and the cross-validated figures (bench/fit_answers.py)
    span: Logistic | None = None  # P(this candidate span is the short answer) (span_ranker.py)


@functools.lru_cache(maxsize=1)
def models() -> Models:
    record = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    return Models(model_from_dict(record["sentence"]), Logistic.from_dict(record["answer"]),
                  float(record["answer_at"]), float(record["closest_at"]), record.get("fitted", {}),
                  Logistic.from_dict(record["span"]) if record.get("span") else None)


def save_models(sentence: Logistic | Blend, answer: Logistic, answer_at: float, closest_at: float, fitted: dict,
                path: Path = WEIGHTS, span: Logistic | None = None) -> None:
    record = {"sentence": sentence.to_dict(), "answer": answer.to_dict(), "answer_at": round(answer_at, 4),
              "closest_at": round(closest_at, 4), "fitted": fitted, **({"span": span.to_dict()} if span else {})}
    path.write_text(_dumps(record) + "\n", encoding="utf-8")
    models.cache_clear()


def _dumps(value, indent: str = "") -> str:
    """JSON, one key per line, a list of numbers on one line (the trees' arrays: one line per tree)."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "[\n" + ",\n".join(inner + _dumps(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def log_length(text: str) -> float:
    return math.log1p(len(text))
