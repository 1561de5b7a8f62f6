"""Optional static embeddings in story clustering: the hook, its errors, a real model2vec model."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from storytrace.cluster import StoryClusterer, cluster_stories
from storytrace.cluster.embeddings import EmbeddingSpace, load_static_model
from storytrace.errors import ConfigError
from storytrace.model import DocumentResult, Signals

# Two reports of one fire that share no content word, and an unrelated one.
FIRE_A = (
    "A blaze gutted the Riverside warehouse overnight, and firefighters needed five hours "
    "to control it, chief Dana Holt told reporters."
)
FIRE_B = (
    "Flames destroyed a storage depot by the canal before dawn; crews battled them until "
    "morning, according to brigade officials."
)
VOTE = (
    "Parliament approved the annual budget on Thursday after a long debate, with opposition "
    "parties voting against the spending plan."
)
TOPICS = {"blaze": 0, "flames": 0, "parliament": 1}


def topic_embedder(texts: list[str]) -> np.ndarray:
    """A stand-in model: one axis per topic word found in the text."""
    out = np.zeros((len(texts), 3))
    for row, text in enumerate(texts):
        words = text.lower().replace(",", " ").split()
        axes = [TOPICS[w] for w in words if w in TOPICS]
        out[row, axes[0] if axes else 2] = 1.0
    return out


def document(n: int, text: str) -> DocumentResult:
    return DocumentResult(
        id=f"d{n}", source=f"d{n}", title=None, clean_text=text, removed=[],
        signals=Signals(), family="", story="", attribution=[],
    )  # fmt: skip


def families(texts):
    return [[document(n, t)] for n, t in enumerate(texts)]


def test_an_embedder_joins_reports_that_share_meaning_but_no_words():
    fams = families([FIRE_A, VOTE, FIRE_B])
    assert cluster_stories(fams) == [[0], [1], [2]]
    batch = StoryClusterer(embedder=topic_embedder, embedding_weight=0.3).fit(fams)
    assert list(batch.labels_) == [0, 1, 0]
    stream = StoryClusterer(embedder=topic_embedder, embedding_weight=0.3).partial_fit(fams)
    assert list(stream.labels_) == [0, 1, 0]
    assert batch.get_params()["embeddings"] is True
    assert StoryClusterer().get_params()["embeddings"] is False


def test_embedding_parameters_and_output_shape_are_checked():
    with pytest.raises(ValueError, match="embedding_weight"):
        StoryClusterer(embedding_weight=1.0)
    space = EmbeddingSpace(lambda texts: np.zeros((1, 4)))
    with pytest.raises(ConfigError, match="one row per text"):
        space.add([FIRE_A, FIRE_B], [True, True])


def test_the_centred_cosine_follows_the_mean_as_families_stream_in():
    """After every add, the similarity is the cosine of the vectors centred on the mean of the
    informative ones (negatives as 0, cubed), whatever the rows and columns asked for."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(9, 5)) + 3.0
    vectors[4] = 0.0  # an empty page's vector
    informative = [True, True, False, True, False, True, True, True, True]
    given = iter(vectors)
    space = EmbeddingSpace(lambda texts: np.array([next(given) for _ in texts]))
    for end in (1, 2, 5, 9):
        start = space._n
        space.add(["text"] * (end - start), informative[start:end])
        mean = vectors[:end][informative[:end]].mean(axis=0)
        centred = vectors[:end] - mean
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 1e-9)
        expected = np.clip(unit @ unit.T, 0.0, 1.0) ** 3
        assert np.allclose(space.similarity(), expected, atol=1e-9)
        rows, cols = np.arange(end)[::-1], np.array([end - 1])
        assert np.allclose(space.similarity(rows, cols), expected[np.ix_(rows, cols)], atol=1e-9)
        assert np.allclose(space.similarity(np.arange(end - 1), cols), expected[:-1, -1:])


def test_a_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="nothing-here"):
        load_static_model(tmp_path / "nothing-here")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="model.safetensors"):
        load_static_model(tmp_path / "half")
    run = subprocess.run(
        [sys.executable, "-m", "storytrace.cli", "analyze", str(REPO / "examples" / "corpus"),
         "--out", str(tmp_path / "out"), "--embeddings", str(tmp_path / "nothing-here")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "nothing-here" in run.stderr
    assert not (tmp_path / "out" / "result.json").exists()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A real model2vec model with a small word vocabulary and random vectors, saved to disk."""
    model2vec = pytest.importorskip("model2vec")
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    corpus = (REPO / "examples" / "corpus").rglob("*")
    words = sorted({w.lower() for p in corpus if p.is_file() for w in p.read_text().split()})
    vocab = {"[UNK]": 0, "[PAD]": 1} | {w: i + 2 for i, w in enumerate(words[:2000])}
    tokenizer = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    vectors = np.random.default_rng(0).normal(size=(len(vocab), 16)).astype(np.float32)
    path = tmp_path_factory.mktemp("model")
    model2vec.StaticModel(vectors, tokenizer).save_pretrained(str(path))
    return path


def test_a_model2vec_model_runs_through_the_cli_and_the_api(tiny_model, tmp_path):
    import storytrace

    embed = load_static_model(tiny_model)
    assert embed(["one text", "another text"]).shape == (2, 16)

    plain = storytrace.analyze([REPO / "examples" / "corpus"])
    with_embeddings = storytrace.analyze([REPO / "examples" / "corpus"], embeddings=tiny_model)
    # Embeddings only move stories: documents, copies and families stay as they were.
    assert [f.members for f in with_embeddings.families] == [f.members for f in plain.families]
    assert all(d.story for d in with_embeddings.documents)

    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "storytrace.cli", "analyze", str(REPO / "examples" / "corpus"),
         "--out", str(out), "--embeddings", str(tiny_model), "--no-html", "--no-parquet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads((out / "result.json").read_text())
    assert len(result["documents"]) == len(plain.documents)
