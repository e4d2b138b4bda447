"""Reading a dead worker's last error from its log (issue #11 item 11).

``last_error`` is the one function that turns a worker's log tail into the line(s) a person
needs: the fail-stop record with its exception, a traceback's exception lines, a JSON log
record, a bare start-up traceback or the CLI's error line. The samples are real output: faust's
multi-line format (a worker that crashed on ``PartitionsMismatch``) and the one-line format of
``app.runtime.log_setup`` (newlines escaped as ``\\n``).
"""

from __future__ import annotations

import orjson

from app.runtime.supervisor import last_error

_PARTITIONS_MISMATCH = (
    "faust.exceptions.PartitionsMismatch: The source topic 't2f769d04.fp.ig.ingress.v1' for "
    "table 'ig-dedupe-v1'\nhas 4 partitions, but the changelog\ntopic "
    "'fresh-app-ig-dedupe-v1-changelog' has 1 partitions.\n\nPlease make sure the topics have "
    "the same number of partitions\nby configuring Kafka correctly.")

# faust's own format: the traceback and a multi-line exception message on the following lines.
FAUST_MULTILINE = "\n".join((
    '[2026-12-03 13:53:44,900] [6979] [INFO] [^Worker]: Ready ',
    '[2026-12-03 13:53:45,022] [6979] [INFO] Updating subscribed topics to: ',
    '+Requested Subscription-------+',
    '| topic name                  |',
    '+-----------------------------+',
    '| t2f769d04.fp.bus.labels.v1  |',
    '+-----------------------------+ ',
    '[2026-12-03 13:53:45,030] [6979] [ERROR] [^--Consumer]: commit failed, retrying ',
    '[2026-12-03 13:53:45,072] [6979] [CRITICAL] agent ig failed: PartitionsMismatch('
    '"The source topic \'t2f769d04.fp.ig.ingress.v1\' for table \'ig-dedupe-v1\'\\nhas 4 '
    "partitions, but the changelog\\ntopic 'fresh-app-ig-dedupe-v1-changelog' has 1 p"
    'artitions.\\n\\nPlease make sure the topics have the same number of partitions\\'
    'nby configuring Kafka correctly.\\n"); stopping the worker without committing (i'
    't is restarted and recovers as from a crash) ',
    'Traceback (most recent call last):',
    '  File "/work/main/app/agents/ig.py", line 364, in ig',
    '    await gate.process(events)',
    '  File "/work/main/app/agents/ig.py", line 298, in _reconcile',
    '    self.dedupe[checkpoint_key(partition)] = {**checkpoint, **result.ends}',
    '    ~~~~~~~~~~~^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    '  File "/work/main/.venv/lib/python3.11/site-packages/faust/tables/base.py", lin'
    'e 341, in _verify_source_topic_partitions',
    '    raise PartitionsMismatch(',
    "faust.exceptions.PartitionsMismatch: The source topic 't2f769d04.fp.ig.ingress.v"
    "1' for table 'ig-dedupe-v1'",
    'has 4 partitions, but the changelog',
    "topic 'fresh-app-ig-dedupe-v1-changelog' has 1 partitions.",
    '',
    'Please make sure the topics have the same number of partitions',
    'by configuring Kafka correctly.',
    '',
)) + "\n"

# app.runtime.log_setup's format: one physical line per record, newlines escaped.
ONE_LINE = (
    "[2026-12-03 13:57:29,100] [11419] [INFO] [app.agents.ig] {\"event\": \"ig.batch\", "
    "\"n\": 3}\n"
    "[2026-12-03 13:57:29,429] [11419] [CRITICAL] [app.runtime.fail_stop] agent ig failed: "
    "PartitionsMismatch(\"The source topic 't2f769d04.fp.ig.ingress.v1' for table "
    "'ig-dedupe-v1'\\nhas 4 partitions, but the changelog\\ntopic "
    "'fresh-app-ig-dedupe-v1-changelog' has 1 partitions.\\n\\nPlease make sure the topics "
    "have the same number of partitions\\nby configuring Kafka correctly.\\n\"); stopping the "
    "worker without committing (it is restarted and recovers as from a crash)\\nTraceback "
    "(most recent call last):\\n  File \"/work/main/app/agents/ig.py\", line 364, in ig\\n    "
    "await gate.process(events)\\n  File \"/x/faust/tables/base.py\", line 341, in "
    "_verify_source_topic_partitions\\n    raise PartitionsMismatch(\\n"
    + _PARTITIONS_MISMATCH.replace("\n", "\\n") + "\n")

BROKER_LOST_ONE_LINE = (
    "[2026-12-03 13:57:20,000] [11419] [ERROR] [app.runtime.broker_watch] broker lost: "
    "2 probes failed; the worker fail-stops if it is not back within 15s\n"
    "[2026-12-03 13:57:29,622] [11419] [CRITICAL] [app.runtime.fail_stop] agent broker_watch "
    "failed: BrokerError('broker lost: 2 probes failed'); stopping the worker without "
    "committing (it is restarted and recovers as from a crash)\\n"
    "app.rails.errors.BrokerError: broker lost: 2 probes failed\n")


def test_issue_11_item_11_faust_multiline_crash_names_the_agent_and_the_exception() -> None:
    error = last_error(FAUST_MULTILINE)
    assert error == f"agent ig failed: {_PARTITIONS_MISMATCH}"


def test_issue_11_item_11_one_line_records_give_the_same_error() -> None:
    assert last_error(ONE_LINE) == f"agent ig failed: {_PARTITIONS_MISMATCH}"


def test_a_fail_stop_without_traceback_gives_its_exception_line() -> None:
    assert last_error(BROKER_LOST_ONE_LINE) == (
        "agent broker_watch failed: app.rails.errors.BrokerError: broker lost: 2 probes failed")


def test_the_fail_stop_record_wins_over_later_shutdown_noise() -> None:
    noise = ("[2026-12-03 13:53:46,000] [6979] [ERROR] [aiokafka] Unclosed AIOKafkaConnection\n"
             "[2026-12-03 13:53:46,001] [6979] [WARNING] [aiokafka] suppressed 40 similar "
             "records in 10s: Unclosed\n")
    assert last_error(FAUST_MULTILINE + noise) == f"agent ig failed: {_PARTITIONS_MISMATCH}"


def test_a_critical_record_wins_over_a_later_plain_error() -> None:
    log = ("[2026-12-03 10:00:00,000] [1] [CRITICAL] [app.x] store unreachable: /data\n"
           "[2026-12-03 10:00:01,000] [1] [ERROR] [app.y] retrying commit\n")
    assert last_error(log) == "store unreachable: /data"


def test_json_log_lines_are_read_with_their_exception() -> None:
    lines = [
        {"level": "info", "message": "worker ready"},
        {"level": "error", "message": "agent hotpath crashed",
         "exc_info": "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n"
                     "    g()\nRuntimeError: table closed"},
        {"level": "info", "message": "stopping"},
    ]
    log = "\n".join(orjson.dumps(line).decode() for line in lines) + "\n"
    assert last_error(log) == "RuntimeError: table closed"


def test_json_error_without_exception_gives_its_message() -> None:
    log = orjson.dumps({"levelname": "ERROR", "msg": "cannot bind 127.0.0.1:6066"}).decode()
    assert last_error(log) == "cannot bind 127.0.0.1:6066"


def test_a_bare_startup_traceback_gives_its_last_exception() -> None:
    log = ("Traceback (most recent call last):\n"
           "  File \"<frozen runpy>\", line 198, in _run_module_as_main\n"
           "  File \"/work/main/app/cli/main.py\", line 9, in <module>\n"
           "    import nothere\n"
           "ImportError: cannot import name 'x'\n"
           "\n"
           "During handling of the above exception, another exception occurred:\n"
           "\n"
           "Traceback (most recent call last):\n"
           "  File \"/work/main/app/cli/main.py\", line 12, in <module>\n"
           "    raise SystemError('boot')\n"
           "ModuleNotFoundError: No module named 'nothere'\n")
    assert last_error(log) == "ModuleNotFoundError: No module named 'nothere'"


def test_a_traceback_after_info_lines_is_its_own_error() -> None:
    log = ("[2026-12-03 10:00:00,000] [1] [INFO] [^Worker]: Starting...\n"
           "Traceback (most recent call last):\n"
           "  File \"x.py\", line 1, in <module>\n"
           "OSError: [Errno 98] Address already in use\n")
    assert last_error(log) == "OSError: [Errno 98] Address already in use"


def test_the_cli_error_line_of_a_worker_that_could_not_start_is_its_error() -> None:
    log = "fp: error [PROFILE_INVALID]: profile /nope.yaml: no such profile file\n"
    assert last_error(log) == log.strip()


def test_a_log_without_errors_has_no_last_error() -> None:
    log = ("[2026-12-03 10:00:00,000] [1] [INFO] [^Worker]: Ready\n"
           "[2026-12-03 10:00:01,000] [1] [WARNING] [aiokafka] suppressed 3 similar records\n"
           "| topic name |\n")
    assert last_error(log) is None
    assert last_error("") is None


def test_a_huge_exception_message_is_clipped() -> None:
    body = "\n".join(f"line {i}" for i in range(500))
    log = ("[2026-12-03 10:00:00,000] [1] [CRITICAL] [app.x] boom\nTraceback (most recent call "
           f"last):\n  File \"x.py\", line 1, in f\nValueError: {body}\n")
    error = last_error(log)
    assert error is not None and error.startswith("ValueError: line 0\nline 1")
    assert len(error.split("\n")) <= 12 and len(error) <= 2000
