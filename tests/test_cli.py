

from rag.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_empty_question_is_one_clear_line(capsys, settings):
    code, out, err = _run(capsys, "ask", "--seeds", str(settings.seeds_dir), "--index",
                          str(settings.index_dir), "--embedder", "fake", "   ")
    assert code == 2 and err.strip().splitlines()[-1].startswith("rag: error: the question is empty")


def test_missing_seeds_dir(capsys, tmp_path):
    code, _, err = _run(capsys, "index", "--seeds", str(tmp_path / "nope"), "--index", str(tmp_path / "i"),
                        "--embedder", "fake")
    assert code == 2 and "documents folder not found" in err and str(tmp_path / "nope") in err


def test_corrupt_index_reported_with_fix(capsys, settings, monkeypatch):
    from rag.index import build_index

    build_index(settings)
    (settings.index_dir / "rows.npy").write_bytes(b"garbage")
    code, _, err = _run(capsys, "ask", "--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir),
                        "--embedder", "fake", "Que propose Olivier Duha ?")
    assert code == 2 and "corrupt" in err and "rag index --rebuild" in err


def test_missing_model_named_with_the_way_to_get_it(capsys, settings):
    code, _, err = _run(capsys, "ask", "--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir),
                        "--embedder", "fake", "--llm", "/nowhere/model.gguf", "Que propose Olivier Duha ?")
    assert code == 2 and "/nowhere/model.gguf" in err and "models.txt" in err


def test_index_command_builds_then_reports_up_to_date(capsys, settings):
    args = ["index", "--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir), "--embedder", "fake"]
    assert _run(capsys, *args)[0] == 0
    code, _, err = _run(capsys, *args)
    assert code == 0 and "up to date" in err
