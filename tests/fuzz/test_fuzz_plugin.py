"""Fuzzing the plugin with drawn contracts, through real protoc runs.

Valid contracts must generate modules that import, describe the agents as
written, and pass ``mypy --strict`` together with user code calling them (one
mypy run over the whole batch). Broken ones must fail protoc with a message
naming the file, never a traceback, and write no agents module.
"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgen.runtime import Handler
from tests.generator.typecheck import run_mypy
from tests.support.protoc import importable, run_protoc

from .contracts import BROKEN_RULES, Contract, broken_contracts, valid_contracts
from .profile import fuzz_settings

pytestmark = pytest.mark.timeout(300)

_PYTHON_TYPES = {
    "google.protobuf.Empty": "empty_pb2.Empty",
    "google.protobuf.Timestamp": "timestamp_pb2.Timestamp",
}


def _compile(contract: Contract, protos: Path, out: Path) -> tuple[int, str]:
    source = protos / contract.path
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(contract.render(), encoding="utf-8")
    result = run_protoc(protos, [contract.path], out)
    return result.returncode, result.stderr


def _python_type(full_name: str, package: str) -> str:
    return _PYTHON_TYPES.get(full_name) or "pb2." + full_name.removeprefix(
        package + "."
    )


def _check_agents(contract: Contract, out: Path) -> str:
    """Import the module, compare it with the contract; return user code for it."""
    with importable(out):
        module = importlib.import_module(contract.module)
        lines = [
            "from google.protobuf import empty_pb2, timestamp_pb2",
            "",
            "from agentgen.runtime import AgentRuntime, MessageContext",
            f"from {contract.package} import contract_agents as agents",
            f"from {contract.package} import contract_pb2 as pb2",
            "",
        ]
        for service in contract.services:
            base = getattr(module, f"{service.name}Base")
            assert (service.agent_type or service.name) == base.AGENT_TYPE
            expected_topics = [*service.subscribe]
            if service.default_subscription:
                expected_topics.append("default")
            assert list(base.TOPIC_SUBSCRIPTIONS) == expected_topics
            assert list(base.PREFIX_SUBSCRIPTIONS) == list(service.prefixes)
            handled = [h.request.DESCRIPTOR.full_name for h in base.HANDLERS]
            assert handled == [
                _full_name(rpc.request, contract) for rpc in service.rpcs
            ]
            lines += _user_code(service.name, base.HANDLERS, contract.package)
    return "\n".join(lines) + "\n"


def _full_name(type_name: str, contract: Contract) -> str:
    return type_name if "." in type_name else f"{contract.package}.{type_name}"


def _user_code(service: str, handlers: tuple[Handler, ...], package: str) -> list[str]:
    """A subclass implementing every handler and a function calling every rpc."""
    implementation = [f"class {service}Impl(agents.{service}Base):"]
    calls = [
        f"async def use_{service}(runtime: AgentRuntime) -> None:",
        f"    client = agents.{service}Client(runtime)",
        f"    await {service}Impl.register(runtime)",
    ]
    for number, handler in enumerate(handlers):
        method = handler.method
        request = _python_type(handler.request.DESCRIPTOR.full_name, package)
        response_class = handler.response
        if response_class is None:
            returns, value = "None", "None"
            calls.append(f"    await client.{method}({request}())")
        else:
            returns = _python_type(response_class.DESCRIPTOR.full_name, package)
            value = f"{returns}()"
            reply = f"reply_{number}"
            calls.append(f"    {reply}: {returns} = await client.{method}({request}())")
            calls.append(f"    del {reply}")
        implementation += [
            f"    async def {method}(",
            f"        self, message: {request}, ctx: MessageContext",
            f"    ) -> {returns}:",
            f"        return {value}",
        ]
    if len(implementation) == 1:
        implementation.append("    pass")
    return [*implementation, "", "", *calls, "", ""]


def test_valid_contracts_generate_importable_mypy_clean_code(tmp_path: Path) -> None:
    protos, out = tmp_path / "protos", tmp_path / "out"
    packages = (f"valid{number}" for number in itertools.count())
    checked: list[Path] = []

    @fuzz_settings(ci_examples=10)
    @given(data=st.data())
    def generate(data: st.DataObject) -> None:
        contract = data.draw(valid_contracts(next(packages)))
        code, stderr = _compile(contract, protos, out)
        assert code == 0, stderr + contract.render()
        assert "Traceback" not in stderr
        user = out / contract.package / "use_contract.py"
        user.write_text(_check_agents(contract, out), encoding="utf-8")
        checked.extend([out / contract.package / "contract_agents.py", user])

    generate()
    result = run_mypy(out, checked)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule", BROKEN_RULES)
def test_broken_contracts_get_a_clean_protoc_error(tmp_path: Path, rule: str) -> None:
    protos, out = tmp_path / "protos", tmp_path / "out"
    packages = (f"broken{number}" for number in itertools.count())

    @fuzz_settings(ci_examples=1)
    @given(data=st.data())
    def refuse(data: st.DataObject) -> None:
        broken = data.draw(broken_contracts(next(packages), rules=(rule,)))
        code, stderr = _compile(broken.contract, protos, out)
        assert code != 0, broken.contract.render()
        assert "Traceback" not in stderr, stderr
        assert broken.contract.path in stderr, stderr
        assert not (out / broken.contract.package / "contract_agents.py").exists()

    refuse()
