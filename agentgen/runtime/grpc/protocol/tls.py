"""TLS settings for the host (server TLS, optionally mutual) and the worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

__all__ = ["ClientTls", "ServerTls"]


_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_PRIVATE_KEY = b"PRIVATE KEY-----"


def _read(path: str | Path, what: str, marker: bytes) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read the {what} file {path}: {error}") from error
    _check_pem(data, f"the {what} file {path}", marker)
    return data


def _check_pem(data: bytes | None, what: str, marker: bytes) -> None:
    """Refuse data that is not PEM of the expected kind (grpc only says 'failed')."""
    if data is not None and marker not in data:
        kind = "certificate" if marker == _CERTIFICATE else "private key"
        raise ValueError(f"{what} is not a PEM {kind} (no {marker.decode()!r} line)")


@dataclass(frozen=True, slots=True)
class ServerTls:
    """The host's certificate and key (PEM); with ``client_ca``, mutual TLS.

    Under mutual TLS the host refuses clients without a certificate signed by
    ``client_ca``.
    """

    certificate_chain: bytes
    private_key: bytes
    client_ca: bytes | None = None

    def __post_init__(self) -> None:
        _check_pem(self.certificate_chain, "certificate_chain", _CERTIFICATE)
        _check_pem(self.private_key, "private_key", _PRIVATE_KEY)
        _check_pem(self.client_ca, "client_ca", _CERTIFICATE)

    @classmethod
    def from_files(
        cls,
        certificate_chain: str | Path,
        private_key: str | Path,
        client_ca: str | Path | None = None,
    ) -> ServerTls:
        """Read PEM files."""
        return cls(
            _read(certificate_chain, "certificate chain", _CERTIFICATE),
            _read(private_key, "private key", _PRIVATE_KEY),
            None if client_ca is None else _read(client_ca, "client CA", _CERTIFICATE),
        )

    @property
    def mutual(self) -> bool:
        """Whether client certificates are required."""
        return self.client_ca is not None

    def credentials(self) -> grpc.ServerCredentials:
        """The gRPC server credentials."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


@dataclass(frozen=True, slots=True)
class ClientTls:
    """How a worker verifies the host and, for mutual TLS, identifies itself.

    ``root_certificates=None`` uses the system's trust store. Give both
    ``certificate_chain`` and ``private_key`` for mutual TLS.
    """

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None

    def __post_init__(self) -> None:
        _check_pem(self.root_certificates, "root_certificates", _CERTIFICATE)
        _check_pem(self.certificate_chain, "certificate_chain", _CERTIFICATE)
        _check_pem(self.private_key, "private_key", _PRIVATE_KEY)
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError(
                "ClientTls needs both certificate_chain and private_key "
                "(mutual TLS) or neither"
            )

    @classmethod
    def from_files(
        cls,
        root_certificates: str | Path | None = None,
        certificate_chain: str | Path | None = None,
        private_key: str | Path | None = None,
    ) -> ClientTls:
        """Read PEM files."""
        return cls(
            (
                None
                if root_certificates is None
                else _read(root_certificates, "CA", _CERTIFICATE)
            ),
            (
                None
                if certificate_chain is None
                else _read(certificate_chain, "certificate chain", _CERTIFICATE)
            ),
            (
                None
                if private_key is None
                else _read(private_key, "private key", _PRIVATE_KEY)
            ),
        )

    def credentials(self) -> grpc.ChannelCredentials:
        """The gRPC channel credentials."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )
