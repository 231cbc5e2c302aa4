"""Box arithmetic that redaction relies on: growing and rounding never shrink a region."""

from photoguard_core.geometry import Box, enclosing


def test_grown_adds_fraction_on_every_side():
    box = Box.from_xywh(100, 100, 40, 60).grown(0.5)
    assert (box.x0, box.y0, box.x1, box.y1) == (80, 70, 160, 190)


def test_to_int_rounds_outward():
    assert Box(10.2, 5.9, 20.1, 30.01).to_int() == (10, 5, 21, 31)


def test_iou_and_coverage():
    a = Box(0, 0, 10, 10)
    b = Box(5, 0, 15, 10)
    assert abs(a.iou(b) - 50 / 150) < 1e-9
    assert a.coverage_by(Box(0, 0, 100, 100)) == 1.0
    assert a.intersection(Box(20, 20, 30, 30)) == 0.0


def test_clipped_and_enclosing():
    assert Box(-5, -5, 50, 50).clipped(40, 30) == Box(0, 0, 40, 30)
    assert enclosing([Box(0, 0, 1, 1), Box(5, 6, 7, 8)]) == Box(0, 0, 7, 8)
