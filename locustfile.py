"""The rehearsal's locustfile: chairs, public readers and adversaries replaying a night.

    locust -f locustfile.py --scenario scenarios/smoke.toml --speed 600 --host URL \
        --provision --admin-token TOKEN            # web UI; add --headless to skip it
    locust -f locustfile.py --master --expect-workers 2 --scenario smoke --host URL
    locust -f locustfile.py --worker               # twice: each owns its shard of units

The users live in caucus_rehearsal/rehearsal/ (users.py, chair.py, extras.py); the
custom arguments (--scenario, --speed, --set, --provision, ...) are documented in
caucus_rehearsal/rehearsal/options.py.
``rehearse run`` drives the same users and adds the run directory and the report.
"""

from caucus_rehearsal.rehearsal.users import AdversaryUser, ChairUser, PublicReader

__all__ = ["AdversaryUser", "ChairUser", "PublicReader"]
