"""The fault suite's profile and the three-node KRaft option (pure, no infrastructure)."""

from __future__ import annotations

import dataclasses

from infra.profiles import PROFILES, SERVICES, kafka_properties


def ports(name: str) -> set[int]:
    profile = PROFILES[name]
    nodes = dataclasses.replace(profile, kafka_brokers=3)
    return {
        *(port for node in nodes.kafka_nodes for port in nodes.kafka_node_ports(node)),
        profile.postgres_port,
        profile.otlp_port,
        profile.traces_ui_port,
        profile.traces_grpc_port,
        # A second process of a service listens 100 higher (the rebalance and seat rows).
        *(profile.service_port(s) + step for s in SERVICES for step in (0, 100)),
    }


def test_the_faults_profile_has_its_own_ports_below_the_ephemeral_range() -> None:
    faults = ports("faults")
    assert max(faults) < 32768
    for other in ("run", "test", "bench"):
        assert not faults & ports(other), other


def test_three_nodes_share_the_voters_and_replicate_everything_with_min_isr_two() -> None:
    profile = dataclasses.replace(PROFILES["faults"], kafka_brokers=3)
    nodes = [
        dict(line.split("=", 1) for line in kafka_properties(profile, node).splitlines())
        for node in profile.kafka_nodes
    ]
    voters = "1@127.0.0.1:23093,2@127.0.0.1:23095,3@127.0.0.1:23097"
    assert [n["controller.quorum.voters"] for n in nodes] == [voters] * 3
    assert [n["node.id"] for n in nodes] == ["1", "2", "3"]
    assert len({n["log.dirs"] for n in nodes}) == 3
    for props in nodes:
        assert props["default.replication.factor"] == "3"
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["transaction.state.log.replication.factor"] == "3"
        assert props["min.insync.replicas"] == "2"
        assert props["transaction.state.log.min.isr"] == "2"
    assert profile.bootstrap_servers == "127.0.0.1:23092,127.0.0.1:23094,127.0.0.1:23096"


def test_one_broker_by_default() -> None:
    props = dict(line.split("=", 1) for line in kafka_properties(PROFILES["run"]).splitlines())
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["min.insync.replicas"] == "1"
    assert PROFILES["run"].bootstrap_servers == "127.0.0.1:9092"
