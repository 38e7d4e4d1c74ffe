"""Long lists in messages: the first few items and a count of the rest."""

from capacity.texts import first_few


def test_a_short_list_is_given_whole_and_a_long_one_counts_the_rest():
    assert first_few([]) == ""
    assert first_few(["a"]) == "a"
    assert first_few(list("abcde")) == "a, b, c, d, e"
    assert first_few(list("abcdefgh")) == "a, b, c, d, e and 3 more"
    assert first_few(list("abcdefgh"), 6) == "a, b, c, d, e, f and 2 more"
    assert first_few(list("abcde"), 4) == "a, b, c, d and 1 more"
