"""Notation presets: each course's numbering, and the docs table that maps one weight across them.

docs/notation.md holds the table ``notation_table()`` generates. After changing the presets
(``deltaprop/explain/notation/``), regenerate it with
``DELTAPROP_UPDATE_GOLDEN=1 python -m pytest tests/test_notation.py``.
"""

import os
import re
from pathlib import Path

import pytest

from deltaprop.explain.mathdoc import Code, Doc, M, matrix, num, vector
from deltaprop.explain.notation import NOTATIONS, get_notation, notation_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "notation.md"
BEGIN = "<!-- BEGIN GENERATED TABLE (deltaprop.explain.notation.notation_table(); tests/test_notation.py keeps it in sync) -->\n"
END = "<!-- END GENERATED TABLE -->"

# net.weights[1][2, 0] of a 4-5-3 network: neuron 0 of the hidden layer -> neuron 2 of the output.
SIZES = [4, 5, 3]
SAME_WEIGHT = {
    "3b1b": ("w^(L)_{2,0}", "w^{(L)}_{2,0}"),
    "nielsen": ("w^3_{3,1}", "w^{3}_{3,1}"),
    "ng-ml": ("Θ^(2)_{3,1}", r"\Theta^{(2)}_{3,1}"),
    "ng-dl": ("W^[2]_{3,1}", "W^{[2]}_{3,1}"),
}


def test_the_presets_are_the_four_courses():
    assert list(NOTATIONS) == ["3b1b", "nielsen", "ng-ml", "ng-dl"]


@pytest.mark.parametrize("key", list(SAME_WEIGHT))
def test_the_same_weight_in_each_notation(key):
    n = get_notation(key, SIZES)
    symbol = n.weight(2, 2, 0)
    assert (symbol.text, symbol.latex) == SAME_WEIGHT[key]


def test_layer_numbering_input_layer_0_or_1_or_counted_back_from_L():
    labels = {key: [get_notation(key, SIZES).layer_label(l) for l in range(3)] for key in NOTATIONS}
    assert labels == {
        "3b1b": ["L-2", "L-1", "L"],
        "nielsen": ["1", "2", "3"],
        "ng-ml": ["1", "2", "3"],
        "ng-dl": ["0", "1", "2"],
    }


def test_ng_ml_has_theta_with_a_bias_column_and_no_b():
    n = get_notation("ng-ml", SIZES)
    # Θ^(l) maps layer l to l+1: the engine's W^2 (hidden -> output) is Θ^(2)
    assert n.weight_matrix(2).text == "Θ^(2)"
    assert n.bias(2, 2).text == "Θ^(2)_{3,0}"  # column 0 is the bias
    assert n.bias_unit(1).text == "a^(2)_0"
    assert n.a(0).text == "a^(1)"  # the input is layer 1
    assert n.delta(2, 2).text == "δ^(3)_3"
    assert n.cost().text == "J(Θ)"
    assert n.batch_grad_name("weight", 2, 2, 0).text == "D^(2)_{3,1}"
    assert n.accumulator(2, 2, "1").text == "Δ^(2)_{3,1}"


def test_ng_dl_names_dz_dw_and_examples_in_parentheses():
    n = get_notation("ng-dl", SIZES)
    assert n.delta(1, 0).text == "dz^[1]_1"
    assert n.batch_grad_name("weight", 2, 2, 0).text == "dW^[2]_{3,1}"
    assert n.batch_grad_name("bias", 2, 2).text == "db^[2]_3"
    assert n.example_cost(3).latex == r"\mathcal{L}^{(i)}"
    assert n.columns_are_examples


def test_3b1b_counts_from_0_and_drops_single_neuron_subscripts():
    chain = get_notation("3b1b", [1, 1, 1, 1])
    assert chain.weight(3, 0, 0).text == "w^(L)"
    assert chain.a(2, 0).text == "a^(L-1)"
    assert chain.z(1, 0).text == "z^(L-2)"
    assert chain.example_cost(0).text == "C_0"
    wide = get_notation("3b1b", SIZES)
    assert wide.a(1, 0).text == "a^(L-1)_0"
    assert wide.example_cost(12).text == "C_{12}"


def test_nielsen_counts_from_1():
    n = get_notation("nielsen", SIZES)
    assert n.bias(2, 2).text == "b^3_3"
    assert n.delta(1, 4).text == "δ^2_5"
    assert n.weight_matrix(2).text == "w^3"
    assert n.example_cost(0).text == "C_x"


def test_unknown_notation_lists_the_choices():
    with pytest.raises(ValueError, match="3b1b, nielsen, ng-ml, ng-dl"):
        get_notation("goodfellow", SIZES)
    assert get_notation("NG_ML", SIZES).key == "ng-ml"


def test_every_symbol_has_a_text_and_a_latex_spelling():
    for key in NOTATIONS:
        n = get_notation(key, SIZES)
        for m in (n.weight(1, 4, 3), n.bias(1, 4), n.z(2, 1), n.a(0, 3), n.delta(2), n.y(1),
                  n.cost(), n.example_cost(5), n.weight_matrix(1), n.bias_vector(2), n.penalty(),
                  n.batch_cost()):
            assert m.text and m.latex
            assert m.latex.count("{") == m.latex.count("}")


def test_numbers_vectors_matrices():
    assert num(-0.000123456789).text == "-0.000123457"
    assert num(1.5e-7).latex == r"1.5 \times 10^{-7}"
    assert num(-2.0, wrap=True).text == "(-2)"
    assert vector(range(3)).text == "[0, 1, 2]"
    long = vector(range(100), max_items=10)
    assert "(91 more)" in long.text and long.text.endswith("99]")
    big = matrix([[i * 10 + j for j in range(20)] for i in range(20)], max_rows=4, max_cols=4)
    rows = big.text.split("\n")
    assert len(rows) == 4 and "⋯" in rows[0] and "⋮" in rows[2]
    assert r"\vdots" in big.latex and r"\ddots" in big.latex


def test_doc_renders_text_and_markdown_merging_adjacent_math():
    doc = Doc()
    doc.title(M("∂C/∂w", r"\frac{\partial C}{\partial w}"), ": a title")
    doc.heading("1. Step")
    doc.item("value ", M("a") + " = ", num(0.5), M(" → ", r" \to "), " see ", Code("net.weights[0]"))
    text, md = doc.text(), doc.markdown()
    assert text.splitlines() == ["∂C/∂w: a title", "", "1. Step", "   value a = 0.5 →  see net.weights[0]"]
    assert "$a = 0.5 \\to $" in md  # one $...$, never "$$" between two math parts
    assert "`net.weights[0]`" in md
    assert "$$" not in md


def test_docs_table_is_generated_from_the_presets():
    table = notation_table()
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "docs/notation.md lost its generated-table markers"
    start = text.index(BEGIN) + len(BEGIN)
    stop = text.index(END)
    if os.environ.get("DELTAPROP_UPDATE_GOLDEN") == "1":
        DOC.write_text(text[:start] + table + text[stop:], encoding="utf-8")
        text = DOC.read_text(encoding="utf-8")
        stop = text.index(END)
    assert text[start:stop] == table, (
        "docs/notation.md is out of date; regenerate with DELTAPROP_UPDATE_GOLDEN=1 pytest tests/test_notation.py"
    )


def test_docs_table_rows_name_the_same_weight():
    table = notation_table()
    for key, (text, latex) in SAME_WEIGHT.items():
        row = next(line for line in table.splitlines() if f"(`{key}`)" in line)
        assert f"${latex}$" in row and f"`{text}`" in row
    assert re.search(r"`net\.weights\[1\]\[2, 0\]`", table)


def test_3b1b_names_the_example_x_and_keeps_k_for_neurons():
    n = get_notation("3b1b", SIZES)
    assert n.batch_cost().text == "1/m Σ_x C_x" and n.batch_cost().latex == r"\frac{1}{m} \sum_{x} C_{x}"
    assert n.example(1) == "example x = 1 (row 1 of X)" and n.example_tag(2).text == "x=2"
    assert n.example_cost(0).text == "C_0"  # the video's cost of one example
    assert "C_x the cost of example x" in n.summary and "C_k" not in n.summary


def test_ng_ml_penalty_indexes_units_with_j_k_not_the_example_i():
    n = get_notation("ng-ml", SIZES)
    assert n.penalty().text == "λ/(2m) Σ_l Σ_j Σ_{k≥1} (Θ^(l)_{j,k})²"
    assert n.batch_cost().text == "1/m Σ_i cost(i)"
    assert "a_0^(l) = 1" in n.summary


@pytest.mark.parametrize("key", list(NOTATIONS))
def test_examples_are_training_examples_only_when_told(key):
    n = get_notation(key, SIZES)
    assert "training" not in n.example(1) and "training" not in n.summary
    assert n.example(1, training=True).startswith("training ")
    assert n.example(1, training=True)[len("training "):] == n.example(1)
