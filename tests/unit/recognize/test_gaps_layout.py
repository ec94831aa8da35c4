"""Printed fields that do not sit on one line: a value wrapped onto the line under it, a
value a little off its label's baseline, and the 备注 box; read from laid-out segments."""

from __future__ import annotations

from fapiao.recognize.labels import NEAR, TEXT
from fapiao.recognize.layout import Layout, Segment
from fapiao.recognize.printed import read_remark

H = 9.0  # the height of a character


def _at(x: float, baseline: float, text: str, height: float = H) -> Segment:
    """A segment of ``text`` starting at ``x``, one character per ``height``."""
    return Segment(text, x, baseline, x + height * len(text), baseline + height)


def _address(*segments: Segment) -> list[str | None]:
    return Layout(segments).values("地址电话", NEAR + TEXT, beside=True, continued=True)


def test_a_value_goes_on_on_the_line_right_under_it() -> None:
    found = _address(
        _at(48, 100, "地址电话:"),
        _at(95, 100, "天津经济技术开发区"),
        _at(95, 89, "办公楼C座103室"),
    )
    assert found == ["天津经济技术开发区办公楼C座103室"]


def test_without_continued_only_the_first_line_is_read() -> None:
    segments = (_at(48, 100, "地址电话:"), _at(95, 100, "天津市"), _at(95, 89, "南港"))
    assert Layout(segments).values("地址电话", NEAR + TEXT) == ["天津市"]


def test_a_line_with_a_label_of_its_own_is_the_next_field() -> None:
    found = _address(
        _at(48, 100, "地址电话:"),
        _at(95, 100, "天津市南港工业区"),
        _at(59, 88, "开户行:"),
        _at(95, 88, "招商银行天津分行"),
    )
    assert found == ["天津市南港工业区"]


def test_a_label_of_its_own_a_little_off_the_baseline_counts_too() -> None:
    # OFD writers print values ~0.7 of a line above their labels
    found = _address(
        _at(48, 100, "地址电话:"),
        _at(95, 100, "天津市南港工业区"),
        _at(95, 90, "91330106MA7GAL1299"),
        _at(48, 84, "识别号:"),
    )
    assert found == ["天津市南港工业区"]


def test_text_not_aligned_with_the_value_or_too_far_below_is_not_a_continuation() -> None:
    assert _address(_at(48, 100, "地址电话:"), _at(95, 100, "天津市"), _at(160, 89, "密码区")) == [
        "天津市"
    ]
    assert _address(_at(48, 100, "地址电话:"), _at(95, 100, "天津市"), _at(95, 70, "南港")) == [
        "天津市"
    ]


def test_a_line_of_another_column_in_between_is_stepped_over() -> None:
    found = _address(
        _at(48, 100, "地址电话:"),
        _at(95, 100, "天津市"),
        _at(400, 94, "03392/<9405<-48"),  # the cipher column, between the two lines
        _at(95, 89, "南港工业区"),
    )
    assert found == ["天津市南港工业区"]


def test_a_wrapped_value_goes_on_for_at_most_three_lines() -> None:
    lines = [_at(95, 100 - 10 * n, f"第{n}行") for n in range(5)]
    assert _address(_at(48, 100, "地址电话:"), *lines) == ["第0行第1行第2行"]


def test_a_vertical_side_label_left_of_the_labels_is_not_a_label() -> None:
    # 数电: "购买方信息" printed upright left of the 名称 label, beside the wrapped name
    found = Layout(
        (
            _at(17, 100, "购"),
            _at(33, 100, "名称："),
            _at(57, 100, "中国石油天然气股份"),
            _at(17, 90, "买"),
            _at(57, 89, "有限公司"),
        )
    ).values("名称[:：]", NEAR + TEXT, continued=True)
    assert found == ["中国石油天然气股份有限公司"]


def test_a_value_off_its_label_s_baseline_is_found_beside_it() -> None:
    # the value ~half a line above its label: laid out as a line of its own
    found = _address(_at(14, 100, "地址电话："), _at(60, 104.6, "重庆市沙坪坝区狮子路11号"))
    assert found == ["重庆市沙坪坝区狮子路11号"]


def test_nothing_beside_a_label_that_has_no_value() -> None:
    found = _address(
        _at(14, 100, "地址电话："),
        _at(14, 112, "名称："),
        _at(36, 112, "某某公司"),  # the line above, with its own label
    )
    assert found == [None]


def test_an_upright_remark_label_reads_the_box_right_of_it() -> None:
    layout = Layout(
        (
            _at(48, 110, "价税合计（大写）"),
            _at(400, 110, "¥756.63"),
            _at(48, 90, "名称:"),
            _at(95, 90, "滴滴出行科技有限公司"),
            _at(350, 84, "备"),
            _at(366, 92, "订单号:100068586537"),
            _at(366, 80, "汇总开具"),
            _at(350, 57, "注"),
            _at(31, 32, "收款人: 李文莉"),
            _at(318, 32, "开票人: 牛蕊"),
        )
    )
    assert read_remark(layout) == "订单号:100068586537 汇总开具"


def test_a_remark_label_in_a_row_reads_what_follows_it() -> None:
    layout = Layout((_at(10, 50, "备注"), _at(40, 50, "差额征税：2.00。"), _at(10, 20, "开票人：")))
    assert read_remark(layout) == "差额征税：2.00。"


def test_a_remark_run_together_with_its_label() -> None:
    layout = Layout((_at(10, 50, "备注：差额征税"), _at(37, 38, "2.00。"), _at(10, 20, "开票人：")))
    assert read_remark(layout) == "差额征税 2.00。"


def test_more_lines_than_a_remark_box_holds_are_no_remark() -> None:
    lines = [_at(40, 100 - 10 * n, f"第{n}行") for n in range(9)]
    footer = _at(10, 0, "开票人：")
    assert read_remark(Layout((_at(10, 100, "备注"), *lines, footer))) is None
    assert read_remark(Layout((_at(10, 100, "备注"), *lines[:8], footer))) == " ".join(
        f"第{n}行" for n in range(8)
    )


def test_an_empty_remark_box_and_no_remark_label_read_as_none() -> None:
    empty = Layout((_at(350, 84, "备"), _at(350, 57, "注"), _at(318, 32, "开票人: 牛蕊")))
    assert read_remark(empty) is None
    # 备 and 注 that are not stacked in one column are no label
    apart = Layout((_at(350, 84, "备"), _at(100, 57, "注"), _at(366, 84, "文字")))
    assert read_remark(apart) is None
