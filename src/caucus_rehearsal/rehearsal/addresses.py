"""The client address each simulated chair and attacker presents to the target.

A live rehearsal sends every request from the load generator's machines, so without more
a target sees the chairs and the attackers as one client (all ``127.0.0.1`` on the
bundled server). A target that counts wrong PINs per (source address, precinct), as it
should, would then lock the real chair out together with the guesser at its precinct,
which the night itself would not do: attackers come from other addresses than the chairs.

So each sender names its own address in :data:`SOURCE_HEADER`, as a proxy in front of the
target would: every chair one address of :data:`CHAIRS` (by its unit's roster index),
every attacker one of :data:`ATTACKERS` (one per stream of random attacks, one per
brute-force attacker). ``rehearse run`` starts the bundled server trusting the header from
the loopback address only (``--forwarded-allow-ips 127.0.0.1``); a vendor's target
decides itself whether to trust it (docs/contract.md, "Sign-in lockout").
"""

from __future__ import annotations

from ipaddress import IPv4Network

from caucus_rehearsal.attacks import ATTACKS

SOURCE_HEADER = "X-Forwarded-For"
"""The request header that carries the sender's address."""
CHAIRS = IPv4Network("10.0.0.0/8")
"""The chairs' addresses (private: the chairs' phones behind their carriers)."""
ATTACKERS = IPv4Network("198.18.0.0/15")
"""The attackers' addresses (RFC 2544's range for tests, so never a real host)."""
TRUST_LOOPBACK = ("--forwarded-allow-ips", "127.0.0.1")
"""The reference server's options with which ``rehearse run`` starts it: the header is
trusted from the loopback address (the load generator), from nowhere else."""


def _nth(net: IPv4Network, n: int) -> str:
    if not 0 <= n < net.num_addresses - 2:
        raise ValueError(f"sender {n} is beyond the {net.num_addresses - 2} addresses of {net}")
    return str(net[n + 1])


def chair_address(unit_index: int) -> str:
    """The address of the chair of the unit at ``unit_index`` in the roster."""
    return _nth(CHAIRS, unit_index)


def stream_attacker_address(kind: str) -> str:
    """The address of the attacker behind the random attacks of ``kind`` (one of
    :data:`~caucus_rehearsal.attacks.ATTACKS`)."""
    return _nth(ATTACKERS, list(ATTACKS).index(kind))


def brute_force_address(i: int) -> str:
    """The address of brute-force attacker ``i``."""
    return _nth(ATTACKERS, len(ATTACKS) + i)
