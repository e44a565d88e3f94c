"""Automation rules: when a trigger happens to a ticket and its conditions match, apply its actions.

- ``fields``: what a condition may look at, and which operators and values fit each field;
- ``conditions``: pure evaluation of condition groups over a ticket's facts, and the guard on patterns;
- ``validation``: a rule's definition checked field by field (pure);
- ``queries``: conditions translated to database filters, where they can be (dry runs, time triggers);
- ``facts``: reading a ticket's facts from the database;
- ``actions``: applying a rule's actions through the tickets services, in one transaction;
- ``engine``: running a trigger's rules on a ticket in order, with retries, parking and loop protection;
- ``timers``: time-based triggers, evaluated from database state by beat;
- ``dry_run``: what a rule would have matched and changed, changing nothing;
- ``services`` / ``selectors``: writes (recorded with who made them) and reads of rules; ``tasks``: Celery.
"""
