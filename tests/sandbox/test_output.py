from sandbox.output import CappedOutput, to_text


def test_output_is_cut_at_the_cap_over_both_streams_and_flagged() -> None:
    out = CappedOutput(10)
    assert out.add("stdout", b"12345")
    assert not out.add("stderr", b"abcdefgh")
    assert out.truncated
    assert out.text("stdout") == "12345"
    assert out.text("stderr") == "abcde"
    assert not out.add("stdout", b"more")
    assert out.size == 10


def test_text_is_valid_even_for_garbage_bytes() -> None:
    text = to_text(b"\xff\xfe ok \x00 \xc3")
    text.encode("utf-8")
    assert "ok" in text and "\x00" not in text
