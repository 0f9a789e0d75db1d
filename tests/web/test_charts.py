from accord.core.charts import bar_chart, line_chart, sparkline


def test_bar_chart_draws_one_bar_per_item_and_escapes_labels():
    svg = bar_chart([("<b>MQL</b>", 30), ("SQL", 10)], title="Stages")
    assert svg.count("<rect") == 2
    assert "&lt;b&gt;MQL&lt;/b&gt;" in svg and "<b>MQL" not in svg
    assert ">30<" in svg and ">10<" in svg


def test_charts_without_data_say_so():
    assert "No data" in bar_chart([]) and "No data" in line_chart([])


def test_line_chart_and_sparkline_draw_a_polyline():
    assert "<polyline" in line_chart([("w1", 1), ("w2", 5), ("w3", 0)])
    assert "<polyline" in sparkline([1, 2, 3])
