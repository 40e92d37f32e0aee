"""Host and workers over TLS and mutual TLS, with certificates made at test time."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentId
from agentgen.runtime.grpc import ClientTls, GrpcHost, GrpcWorkerRuntime, ServerTls
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import running_worker

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Pem:
    certificate: bytes
    key: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> tuple[Pem, x509.Name, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = issuer or (_name(subject), key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    certificate = builder.sign(issuer_key, hashes.SHA256())
    pem = Pem(
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return pem, _name(subject), key


@dataclass(frozen=True)
class Pki:
    ca: Pem
    server: Pem
    client: Pem


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca, ca_name, ca_key = _issue("agentgen test CA", None, ca=True)
    server, _, _ = _issue("localhost", (ca_name, ca_key), server=True)
    client, _, _ = _issue("worker", (ca_name, ca_key))
    return Pki(ca, server, client)


async def _round_trip(host: GrpcHost, tls: ClientTls) -> None:
    async with (
        running_worker(host.address, tls=tls) as callee,
        running_worker(host.address, tls=tls) as caller,
    ):
        await callee.register_agent_class(Collector, lambda: Collector(Arrivals()))
        reply = await caller.send_message(
            wrappers_pb2.StringValue(value="secure"), AgentId("collector", "k")
        )
    assert reply == wrappers_pb2.StringValue(value="echo:secure")


async def test_server_tls(pki: Pki) -> None:
    server_tls = ServerTls(pki.server.certificate, pki.server.key)
    async with GrpcHost("127.0.0.1:0", tls=server_tls) as host:
        await _round_trip(host, ClientTls(root_certificates=pki.ca.certificate))
        plain = GrpcWorkerRuntime(host.address, connect_timeout=1)
        with pytest.raises(ConnectionError):
            await plain.start()


async def test_mutual_tls_and_a_worker_without_certificate_is_refused(
    pki: Pki,
) -> None:
    server_tls = ServerTls(
        pki.server.certificate, pki.server.key, client_ca=pki.ca.certificate
    )
    assert server_tls.mutual
    async with GrpcHost("127.0.0.1:0", tls=server_tls) as host:
        await _round_trip(
            host,
            ClientTls(
                root_certificates=pki.ca.certificate,
                certificate_chain=pki.client.certificate,
                private_key=pki.client.key,
            ),
        )
        anonymous = GrpcWorkerRuntime(
            host.address,
            tls=ClientTls(root_certificates=pki.ca.certificate),
            connect_timeout=1,
        )
        with pytest.raises(ConnectionError, match=host.address):
            await anonymous.start()
        assert not anonymous.is_running


def test_tls_settings_read_pem_files_and_name_a_missing_one(
    pki: Pki, tmp_path: Path
) -> None:
    folder = tmp_path
    (folder / "ca.pem").write_bytes(pki.ca.certificate)
    (folder / "server.pem").write_bytes(pki.server.certificate)
    (folder / "server.key").write_bytes(pki.server.key)
    server = ServerTls.from_files(
        folder / "server.pem", folder / "server.key", folder / "ca.pem"
    )
    assert server == ServerTls(
        pki.server.certificate, pki.server.key, pki.ca.certificate
    )
    assert ClientTls.from_files(folder / "ca.pem").root_certificates == (
        pki.ca.certificate
    )
    with pytest.raises(ValueError, match=r"missing\.pem"):
        ClientTls.from_files(folder / "missing.pem")
    with pytest.raises(ValueError, match=r"server\.key is not a PEM certificate"):
        ClientTls.from_files(folder / "server.key")
    with pytest.raises(ValueError, match="private_key is not a PEM private key"):
        ServerTls(pki.server.certificate, b"junk")
    with pytest.raises(ValueError, match="both certificate_chain and private_key"):
        ClientTls(certificate_chain=pki.client.certificate)
