"""The published audit notebook keeps each figure once; the report still draws every one.

The plan's renderer writes each plotly figure twice (plotly's JSON and an HTML script, the
first with plotly.js): on a fleet of 60 region/services the audit notebook was 41 MB."""

from __future__ import annotations

import nbformat
import papermill

from capacity.plan import export_html, slim_notebook

PLOTLY = "application/vnd.plotly.v1+json"
CELLS = [
    "import plotly.graph_objects as go\nimport plotly.io as pio\n"
    "from IPython.display import HTML, display\n"
    'pio.renderers.default = "plotly_mimetype+notebook"',
    'fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6]))\nfig.update_layout(title="Demand")\n'
    "fig.show()",
    "go.Figure(go.Bar(x=['a'], y=[1])).show()",
    "display(HTML('<table><tr><td>kept</td></tr></table>'))",
]


def _executed(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python"},
    )
    path = tmp_path / "plan.ipynb"
    papermill.execute_notebook(notebook, str(path), kernel_name="python3", progress_bar=False)
    return path


def test_the_audit_notebook_keeps_each_figure_once_and_the_report_keeps_them_all(tmp_path):
    path = _executed(tmp_path)
    html = tmp_path / "plan.html"
    export_html(path, html)
    size = path.stat().st_size
    saved = slim_notebook(path)
    assert saved == size - path.stat().st_size
    assert saved > 3_000_000  # plotly.js, embedded before the first figure, is gone too
    written = nbformat.read(path, as_version=4)  # multi-line texts joined
    nbformat.validate(written)
    outputs = [o for c in written.cells for o in c.get("outputs", [])]
    figures = [o["data"] for o in outputs if PLOTLY in o.get("data", {})]
    assert len(figures) == 2
    assert all("text/html" not in data for data in figures)
    assert figures[0][PLOTLY]["data"][0]["type"] == "scatter"  # the figure itself stays
    assert figures[0]["text/plain"].startswith("Plotly figure: Demand (drawn in")
    assert figures[1]["text/plain"].startswith("Plotly figure (drawn in")
    assert not any("plotly.js v" in o.get("data", {}).get("text/html", "") for o in outputs)
    tables = [o["data"]["text/html"] for o in outputs if PLOTLY not in o.get("data", {})]
    assert tables == ["<table><tr><td>kept</td></tr></table>"]  # other outputs are kept
    page = html.read_text()  # exported before the slimming: both figures, plotly.js once
    assert page.count('class="plotly-graph-div"') == 2  # Plotly.newPlot is in plotly 5's js too
    assert page.count("plotly.js v") == 1
    assert slim_notebook(path) < 1_000  # a second pass finds nothing more to drop
