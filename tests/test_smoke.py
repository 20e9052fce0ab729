from bot.cli import main


def test_content_check_passes(capsys):
    assert main(["content", "check"]) == 0
