"""The rehearsal's locustfile: chairs and adversaries replaying a night, and the public's
and the media's reads beside them (an open workload each process plays: no user class).

    locust -f locustfile.py --scenario scenarios/smoke.toml --speed 600 --host URL \
        --provision --admin-token TOKEN            # web UI; add --headless to skip it
    locust -f locustfile.py --master --expect-workers 2 --scenario smoke --host URL
    locust -f locustfile.py --worker --master-host HOST   # twice: each owns its shard

The master (or the single process) writes the whole run directory (--run-dir); workers
send it their records over Locust's messages and need no file of the master's. The users
live in caucus_rehearsal/rehearsal/ (users.py, chair.py, adversaries.py, public.py); the
custom arguments (--scenario, --speed, --set, --provision, ...) are documented in
caucus_rehearsal/rehearsal/options.py. ``rehearse run`` drives the same users and adds
the reference server, the expected band and the report.
"""

from caucus_rehearsal.rehearsal.users import AdversaryUser, ChairUser

__all__ = ["AdversaryUser", "ChairUser"]
