"""A badge through camera4kivy's Preview in the real app under Xvfb (journeys_android.py says what is
real and what cannot be: the live camera)."""

from tests.kiosk.ui.conftest import ok, run_journey


def test_camera4kivy_preview_frames_check_a_volunteer_in(xdisplay, tmp_path):
    j = ok(run_journey(xdisplay, tmp_path / "c4k", "camera4kivy_preview"))
    assert j["preview_shown"] is True
    assert any(t.startswith("签到成功") for t in j["checkin_labels"])
    assert j["sink"]["frames"] == 3 and j["sink"]["dropped"] == 0
    assert j["image_restored"] is True
    assert (j.folder / "home-camera4kivy.png").stat().st_size > 0
    assert j.rows("SELECT vid, closed_by FROM attendance") == [("14020200001", None)]
