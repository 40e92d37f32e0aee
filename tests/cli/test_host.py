"""``agentgen host`` as a real process: announces its address, serves, stops."""

from __future__ import annotations

import datetime
import signal
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agentgen.protos import agent_worker_pb2
from agentgen.runtime import event_loop

from .helpers import run_cli, run_cli_process
from .host_process import host_process

TIMEOUT = 30


def register_agent_type(
    channel: grpc.Channel, agent_type: str, client_id: str = "cli-test"
) -> None:
    """One real unary call: the host must answer it."""
    register = channel.unary_unary(
        "/agents.AgentRpc/RegisterAgent",
        request_serializer=agent_worker_pb2.RegisterAgentTypeRequest.SerializeToString,
        response_deserializer=agent_worker_pb2.RegisterAgentTypeResponse.FromString,
    )
    register(
        agent_worker_pb2.RegisterAgentTypeRequest(type=agent_type),
        metadata=(("client-id", client_id),),
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_host_serves_then_stops_cleanly(signum: signal.Signals) -> None:
    with host_process("--address", "127.0.0.1:0") as host:
        assert not host.address.endswith(":0")
        with grpc.insecure_channel(host.address) as channel:
            register_agent_type(channel, "probe")
        host.process.send_signal(signum)
        assert host.process.wait(timeout=TIMEOUT) == 0
        assert host.process.stderr is not None
        stderr = host.process.stderr.read().decode()
        assert "Traceback" not in stderr
        assert f"agentgen host on {host.address} stopped" in stderr


@pytest.mark.parametrize("mode", ["exclusive", "by-key", "fan-out"])
def test_host_shares_agent_types_as_told(mode: str) -> None:
    """A second client registering a type: refused only in ``exclusive``."""
    with host_process("--address", "127.0.0.1:0", "--type-sharing", mode) as host:
        with grpc.insecure_channel(host.address) as channel:
            register_agent_type(channel, "HelloAgent", "first")
            if mode == "exclusive":
                with pytest.raises(grpc.RpcError) as refused:
                    register_agent_type(channel, "HelloAgent", "second")
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            else:
                register_agent_type(channel, "HelloAgent", "second")
        host.process.send_signal(signal.SIGTERM)
        assert host.process.wait(timeout=TIMEOUT) == 0
        assert host.process.stderr is not None
        stderr = host.process.stderr.read().decode()
    assert f"(--type-sharing {mode})" in stderr


def test_second_host_on_a_busy_port_fails(tmp_path: Path) -> None:
    with host_process("--address", "127.0.0.1:0") as first:
        second = run_cli_process("host", "--address", first.address, cwd=tmp_path)
    assert second.exit_code == 1
    assert second.stdout == ""
    assert f"agentgen host: error: cannot listen on {first.address}" in second.stderr
    assert "Traceback" not in second.stderr


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "host.pem", folder / "host.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_host_serves_tls(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    with host_process(
        "--address",
        "127.0.0.1:0",
        "--tls-cert",
        str(cert_file),
        "--tls-key",
        str(key_file),
    ) as host:
        credentials = grpc.ssl_channel_credentials(cert_file.read_bytes())
        with grpc.secure_channel(
            host.address,
            credentials,
            options=[("grpc.ssl_target_name_override", "localhost")],
        ) as channel:
            register_agent_type(channel, "secure-probe")
        host.process.send_signal(signal.SIGTERM)
        assert host.process.wait(timeout=TIMEOUT) == 0


@pytest.mark.parametrize(
    ("loop", "loop_type"),
    [
        ("asyncio", "asyncio.unix_events._UnixSelectorEventLoop"),
        ("uvloop", "uvloop.Loop"),
    ],
)
def test_host_serves_on_the_chosen_event_loop(loop: str, loop_type: str) -> None:
    with host_process("--address", "127.0.0.1:0", "--loop", loop, "-v") as host:
        with grpc.insecure_channel(host.address) as channel:
            register_agent_type(channel, "probe")
        host.process.send_signal(signal.SIGTERM)
        assert host.process.wait(timeout=TIMEOUT) == 0
        assert host.process.stderr is not None
        assert f"event loop: {loop_type}\n" in host.process.stderr.read().decode()


def test_host_says_when_the_chosen_loop_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_loop, "uvloop_installed", lambda: False)
    result = run_cli(capsys, "host", "--address", "127.0.0.1:0", "--loop", "uvloop")
    assert result.exit_code == 2
    assert "--loop uvloop: the uvloop event loop is not installed" in result.stderr
    assert "agentgen[uvloop]" in result.stderr


def test_host_refuses_an_unknown_event_loop(tmp_path: Path) -> None:
    result = run_cli_process("host", "--loop", "trio", cwd=tmp_path)
    assert result.exit_code == 2
    assert "trio" in result.stderr
    assert "Traceback" not in result.stderr
