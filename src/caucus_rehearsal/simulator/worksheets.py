"""The worksheet a chair reports: the truth, or the truth with one labelled mistake.

Each kind of ``scenario.WORKSHEET_ERROR_KINDS`` changes the tally the way chairs' errors
did in 2020; ``error_detail`` says what changed in plain words. The draws come in a fixed
layout per unit (``u`` holds four uniforms in [0, 1)), so one unit's mistake does not
depend on any other unit's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from caucus_rehearsal.simulator.truth import Tally

Changed = tuple[Tally, str] | None
"""The changed tally and what changed, or ``None`` when the mistake cannot apply."""
Mutation = Callable[[Tally, tuple[str, ...], Sequence[float]], Changed]


def _pick(options: Sequence[int], u: float) -> int:
    return options[min(int(u * len(options)), len(options) - 1)]


def arithmetic_slip(t: Tally, cands: tuple[str, ...], u: Sequence[float]) -> Changed:
    """One group's final head count written 1-5 off (the delegates as computed before)."""
    groups = [i for i, n in enumerate(t.final) if n > 0] or list(range(len(cands)))
    i = _pick(groups, u[0])
    delta = 1 + int(u[1] * 5)
    if u[2] < 0.5 and t.final[i] >= delta:
        delta = -delta
    final = list(t.final)
    final[i] += delta
    return (Tally(t.attendance, t.first, tuple(final), t.delegates, t.sde),
            f"final {cands[i]} written {final[i]} instead of {t.final[i]}")


def wrong_attendee_count(
    t: Tally, cands: tuple[str, ...], u: Sequence[float]
) -> Changed:
    """The attendance T written 1-10% (at least 1) off."""
    delta = max(1, round(t.attendance * (0.01 + 0.09 * u[0])))
    if u[1] < 0.5 and t.attendance > delta:
        delta = -delta
    written = t.attendance + delta
    return (Tally(written, t.first, t.final, t.delegates, t.sde),
            f"attendance written {written} instead of {t.attendance}")


def delegate_misallocation(
    t: Tally, cands: tuple[str, ...], u: Sequence[float]
) -> Changed:
    """One delegate given to the wrong group (another group with people in the room)."""
    donors = [i for i, d in enumerate(t.delegates) if d > 0]
    if not donors:
        return None
    i = _pick(donors, u[0])
    takers = [j for j, n in enumerate(t.final) if n > 0 and j != i] or [
        j for j in range(len(cands)) if j != i
    ]
    if not takers:
        return None
    j = _pick(takers, u[1])
    dels = list(t.delegates)
    dels[i] -= 1
    dels[j] += 1
    return (Tally(t.attendance, t.first, t.final, tuple(dels), t.sde),
            f"one delegate of {cands[i]} given to {cands[j]}")


def swapped_columns(t: Tally, cands: tuple[str, ...], u: Sequence[float]) -> Changed:
    """Two candidates' columns swapped in every data set (two groups that differ)."""
    rows = list(zip(t.first, t.final, t.delegates, strict=True))
    pairs = [(i, j) for i in range(len(cands)) for j in range(i + 1, len(cands))
             if rows[i] != rows[j] and (any(rows[i]) or any(rows[j]))]
    if not pairs:
        return None
    i, j = pairs[min(int(u[0] * len(pairs)), len(pairs) - 1)]

    def swap(seq: tuple[int, ...] | tuple[float, ...]) -> tuple:  # type: ignore[type-arg]
        out = list(seq)
        out[i], out[j] = out[j], out[i]
        return tuple(out)

    return (Tally(t.attendance, swap(t.first), swap(t.final), swap(t.delegates), swap(t.sde)),
            f"columns of {cands[i]} and {cands[j]} swapped")


def transposed_digits(
    t: Tally, cands: tuple[str, ...], u: Sequence[float]
) -> Changed:
    """Two adjacent digits of a first- or final-alignment count swapped (43 -> 34)."""
    spots = [(part, i) for part, seq in (("first", t.first), ("final", t.final))
             for i, n in enumerate(seq) if len(set(str(n))) > 1 and _transpose(n, 0) != n]
    if not spots:
        return None
    part, i = spots[min(int(u[0] * len(spots)), len(spots) - 1)]
    seq = list(t.first if part == "first" else t.final)
    was = seq[i]
    places = [k for k in range(len(str(was)) - 1) if _transpose(was, k) != was]
    seq[i] = _transpose(was, _pick(places, u[1]))
    first = tuple(seq) if part == "first" else t.first
    final = tuple(seq) if part == "final" else t.final
    return (Tally(t.attendance, first, final, t.delegates, t.sde),
            f"{part} {cands[i]} written {seq[i]} instead of {was}")


def _transpose(n: int, k: int) -> int:
    """``n`` with its digits k and k+1 swapped (no leading zero: returns n then)."""
    s = list(str(n))
    if k + 1 >= len(s):
        return n
    s[k], s[k + 1] = s[k + 1], s[k]
    return n if s[0] == "0" else int("".join(s))


MUTATIONS: dict[str, Mutation] = {
    "arithmetic_slip": arithmetic_slip,
    "wrong_attendee_count": wrong_attendee_count,
    "delegate_misallocation": delegate_misallocation,
    "swapped_columns": swapped_columns,
    "transposed_digits": transposed_digits,
}
"""Kind -> the change it makes; ``None`` when the tally offers nothing to get wrong that way."""

FALLBACK = "arithmetic_slip"
"""The kind used when the drawn kind cannot apply to a tally (always applies)."""


def mistake(
    t: Tally, cands: tuple[str, ...], kind: str, u: Sequence[float]
) -> tuple[Tally, str, str]:
    """The worksheet for truth ``t`` with one mistake: (tally, kind, detail)."""
    got = MUTATIONS[kind](t, cands, u)
    if got is None:
        kind = FALLBACK
        got = MUTATIONS[kind](t, cands, u)
        if got is None:  # pragma: no cover - arithmetic_slip always applies
            raise RuntimeError(f"no worksheet mistake applies to {t}")
    return got[0], kind, got[1]
