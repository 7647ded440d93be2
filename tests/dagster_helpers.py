"""``materialize`` for one delivery date: delivery dates are dynamic partitions, so the instance must know the date
first (the command, the sensor and the schedule add it; here the test does)."""

from __future__ import annotations

from dagster import DagsterInstance, materialize

from fangfanpin.assets.constants import DELIVERY_PARTITIONS


def materialize_day(assets, partition_key: str, instance: DagsterInstance | None = None, **kwargs):
    instance = instance or DagsterInstance.ephemeral()
    if not instance.has_dynamic_partition(DELIVERY_PARTITIONS.name, partition_key):
        instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, [partition_key])
    return materialize(assets, partition_key=partition_key, instance=instance, **kwargs)
