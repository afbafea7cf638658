"""Private Kafka and Redis for fault tests: their own processes, ports and data dirs.

Fault tests stop, restart and misconfigure the services they run against, so they must never
touch the broker and Redis that other developers share. Each service here is a child process
of the test run:

- started on free ports with its data under a directory the caller owns (a pytest tmp dir);
- stopped by ``stop()`` (the fixtures call it in ``finally``), and in any case when the test
  process dies: the child is started with ``PR_SET_PDEATHSIG``, so even a SIGKILLed pytest
  leaves no broker behind;
- restartable on the same ports and data (``restart()``), which is what the outage tests need.

Kafka is the single-node KRaft broker from the jars ``deploy/local/setup.sh`` resolves into
``.local/kafka/libs``, configured here rather than through ``deploy/local/stack.sh`` because
tests need what the dev stack must not have: extra TLS/SASL listeners with an authorizer, a
tiny offsets topic, Kafka's default message size limit, and stop/start by handle.
"""

from __future__ import annotations

import abc
import base64
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.faults.tls import TlsMaterial
from tests.integration.fixtures import die_with_parent, free_port

__all__ = ["KafkaUser", "PrivateKafka", "PrivateRedis"]

ROOT = Path(__file__).resolve().parents[2]
KAFKA_LIBS = ROOT / ".local" / "kafka" / "libs"
KAFKA_LOG4J = ROOT / "deploy" / "local" / "log4j.properties"
READY_LINE = "Kafka Server started"
STOP_TIMEOUT = 30.0


class _ChildService(abc.ABC):
    """A long-running child process with a log file; stop = SIGTERM, then SIGKILL."""

    name = "service"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / f"{self.name}.out"
        self.process: subprocess.Popen[bytes] | None = None

    @abc.abstractmethod
    def start(self) -> None:
        """Spawn the service (through ``_spawn``) and wait until it answers."""

    def _spawn(self, argv: Sequence[str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def _wait(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- Redis


class PrivateRedis(_ChildService):
    """A redis-server of our own. ``persistent`` keeps data across ``restart()`` (AOF, fsync
    always), as a Redis node with durable storage does; ``password``/``username`` turn on
    AUTH (an ACL user when ``username`` is given); ``tls`` serves TLS only."""

    name = "redis"

    def __init__(
        self,
        home: Path,
        *,
        persistent: bool = False,
        password: str | None = None,
        username: str | None = None,
        tls: TlsMaterial | None = None,
    ) -> None:
        super().__init__(home)
        self.port = free_port()
        self.persistent = persistent
        self.password = password
        self.username = username
        self.tls = tls

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://127.0.0.1:{self.port}/0"

    def _argv(self) -> list[str]:
        argv = ["redis-server", "--bind", "127.0.0.1", "--daemonize", "no", "--dir", str(self.home)]
        argv += ["--save", ""]
        if self.persistent:
            argv += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            argv += ["--appendonly", "no"]
        if self.tls is not None:
            argv += ["--port", "0", "--tls-port", str(self.port)]
            argv += ["--tls-cert-file", str(self.tls.server_cert)]
            argv += ["--tls-key-file", str(self.tls.server_key)]
            argv += ["--tls-ca-cert-file", str(self.tls.ca_cert)]
            argv += ["--tls-auth-clients", "optional"]
        else:
            argv += ["--port", str(self.port)]
        if self.username is not None:
            # an ACL user with a password, and the default user locked out
            argv += ["--user", "default", "off"]
            argv += ["--user", self.username, "on", f">{self.password}", "~*", "&*", "+@all"]
        elif self.password is not None:
            argv += ["--requirepass", self.password]
        return argv

    def client(self, **kwargs: object) -> redis.Redis:
        """A client with the server's credentials (for test set-up and checks)."""
        options: dict[str, object] = {"socket_connect_timeout": 1.0, "socket_timeout": 5.0}
        if self.password is not None:
            options |= {"password": self.password, "username": self.username}
        if self.tls is not None:
            options |= {"ssl_ca_certs": str(self.tls.ca_cert)}
        return redis.Redis.from_url(self.url, **(options | kwargs))

    def start(self, timeout: float = 15.0) -> None:
        self._spawn(self._argv())

        def ready() -> bool:
            try:
                with self.client() as client:
                    return bool(client.ping())
            except redis.RedisError:
                return False

        self._wait(ready, timeout)


# ---------------------------------------------------------------------------- Kafka


@dataclass(frozen=True)
class KafkaUser:
    """A SCRAM user created when the broker's storage is formatted."""

    name: str
    password: str
    mechanism: str = "SCRAM-SHA-512"


class PrivateKafka(_ChildService):
    """A single-node KRaft broker (combined broker + controller) on free ports.

    Always a PLAINTEXT listener (``bootstrap``), whose anonymous principal is a super user so
    test set-up is never blocked by ACLs. With ``tls`` it adds, behind the standard authorizer:
    ``SASL_SSL`` (``sasl_ssl_bootstrap``, SCRAM users from ``users``) and ``SSL`` with required
    client certificates (``ssl_bootstrap``, principal = the certificate's CN).
    """

    name = "kafka"

    def __init__(
        self,
        home: Path,
        *,
        tls: TlsMaterial | None = None,
        users: Sequence[KafkaUser] = (),
        heap: str = "-Xmx512m -Xms128m",
    ) -> None:
        super().__init__(home)
        if not (KAFKA_LIBS / ".resolved").exists():
            raise RuntimeError(f"no Kafka jars in {KAFKA_LIBS}: run `make setup` first")
        self.tls = tls
        self.users = tuple(users)
        self.heap = heap
        self.port, self.controller_port = free_port(), free_port()
        self.sasl_ssl_port = free_port() if tls else None
        self.ssl_port = free_port() if tls else None
        self.data = home / "data"
        self.logs = home / "logs"
        self.properties = home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ssl_port}"

    def _java(self) -> list[str]:
        return [
            "java",
            *self.heap.split(),
            "-XX:+UseSerialGC",  # one small heap, two shared cores: no parallel GC threads
            "-XX:TieredStopAtLevel=1",  # C1 only: a test broker lives minutes, start fast
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{KAFKA_LOG4J}",
            f"-Dkafka.logs.dir={self.logs}",
            "-cp",
            f"{KAFKA_LIBS}/*",
        ]

    def _write_properties(self) -> None:
        listeners = [f"PLAINTEXT://127.0.0.1:{self.port}"]
        protocols = ["CONTROLLER:PLAINTEXT", "PLAINTEXT:PLAINTEXT"]
        extra: list[str] = []
        if self.tls is not None:
            listeners += [
                f"SASL_SSL://127.0.0.1:{self.sasl_ssl_port}",
                f"SSL://127.0.0.1:{self.ssl_port}",
            ]
            protocols += ["SASL_SSL:SASL_SSL", "SSL:SSL"]
            jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            extra = [
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users=User:ANONYMOUS",
                "allow.everyone.if.no.acl.found=false",
                "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
                f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}",
                f"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={jaas}",
                "ssl.keystore.type=PEM",
                f"ssl.keystore.location={self.tls.server_keystore_pem}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={self.tls.ca_cert}",
                "listener.name.ssl.ssl.client.auth=required",
                "ssl.principal.mapping.rules=RULE:^CN=([^,]+).*$/$1/,DEFAULT",
            ]
        lines = [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            "controller.listener.names=CONTROLLER",
            f"listeners={','.join(listeners)},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners={','.join(listeners)}",
            "inter.broker.listener.name=PLAINTEXT",
            f"listener.security.protocol.map={','.join(protocols)}",
            f"log.dirs={self.data}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "default.replication.factor=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",  # 50 by default: slow to create, nothing gained
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "group.min.session.timeout.ms=2000",  # fault tests use short sessions
            "num.network.threads=2",
            "num.io.threads=2",
            "background.threads=2",
            "log.retention.check.interval.ms=3600000",
            # message.max.bytes stays at Kafka's default (1 MiB): hostile-input tests need it
            *extra,
        ]
        self.properties.write_text("\n".join(lines) + "\n")

    def _format(self) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        argv = [*self._java(), "kafka.tools.StorageTool", "format"]
        # "=" form: a URL-safe base64 id starts with "-" once in 64, which argparse would
        # take for an option (a CI run failed on that)
        argv += [f"--cluster-id={cluster_id}", "-c", str(self.properties), "--ignore-formatted"]
        for user in self.users:
            argv += ["--add-scram", f"{user.mechanism}=[name={user.name},password={user.password}]"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"kafka storage format failed:\n{result.stdout}\n{result.stderr}")

    def start(self, timeout: float = 120.0) -> None:
        """Format the storage on first start, then run the broker until it says it started."""
        self.logs.mkdir(parents=True, exist_ok=True)
        if not (self.data / "meta.properties").exists():
            self._write_properties()
            self._format()
        server_log = self.logs / "server.log"
        offset = server_log.stat().st_size if server_log.exists() else 0

        def ready() -> bool:
            if not server_log.exists():
                return False
            with server_log.open("rb") as log:
                log.seek(offset)
                return READY_LINE.encode() in log.read()

        self._spawn([*self._java(), "kafka.Kafka", str(self.properties)])
        self._wait(ready, timeout)

    def restart(self, down_for: float = 0.0) -> None:
        """A clean broker restart (SIGTERM, controlled shutdown) on the same ports and data."""
        self.stop()
        time.sleep(down_for)
        self.start()
