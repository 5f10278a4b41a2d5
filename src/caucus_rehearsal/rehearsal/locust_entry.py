"""The locustfile ``rehearse run`` hands to Locust (same as the repository's locustfile.py)."""

from caucus_rehearsal.rehearsal.users import AdversaryUser, ChairUser

__all__ = ["AdversaryUser", "ChairUser"]
