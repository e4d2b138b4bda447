"""Suite-wide fixtures: real servers on loopback (embedded broker, S3 API), started on demand."""

pytest_plugins = ["tests.fixtures.broker", "tests.fixtures.s3_server", "tests.fixtures.worlds",
                  "tests.fixtures.pipeline"]
