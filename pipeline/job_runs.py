"""Runs the command starts, recorded as the UI records its own.

The UI lists a job's runs, draws them on the Overview timeline and groups them by code location through the run's
origin (its ``.dagster/repository`` tag and ``repositoryOrigin``); ``execute_in_process`` records none, and its runs
would show in the Runs list only. The command creates each run with the origin of the workspace's code location
(workspace.yaml), then executes it in this process: one process writes to DuckDB, the command keeps its exit status,
and the UI cannot tell the run from one it launched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from dagster import DagsterInstance, DagsterRun
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.execution.api import execute_run
from dagster._core.execution.execute_in_process import merge_run_tags
from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

# workspace.yaml loads this module as this location (tests/pipeline/test_job_runs.py checks they agree); a
# Definitions object is served as the repository "__repository__".
DEFINITIONS_MODULE = "fangfanpin.pipeline.definitions"
LOCATION_NAME = "fangfanpin"
REPOSITORY_NAME = "__repository__"


def reconstructable_job(job_name: str) -> ReconstructableJob:
    return ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs").get_reconstructable_job(job_name)


def remote_origin(job_name: str) -> RemoteJobOrigin:
    """The origin the webserver gives runs of ``job_name`` from this workspace's code location."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable, module_name=DEFINITIONS_MODULE, working_directory=os.getcwd()
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION_NAME)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)


def execute_job_run(
    instance: DagsterInstance,
    job_name: str,
    *,
    partition_key: str | None = None,
    run_config: Mapping | None = None,
    tags: Mapping[str, str] | None = None,
) -> DagsterRun:
    """Create a run of ``job_name`` with the workspace's origin and execute it here; return the finished run."""
    job = reconstructable_job(job_name)
    job_def = job.get_definition()
    run_tags = merge_run_tags(
        job_def=job_def,
        partition_key=partition_key,
        tags=tags,
        asset_selection=None,
        instance=instance,
        run_config=run_config,
    )
    run = instance.create_run_for_job(
        job_def=job_def,
        run_config=run_config,
        tags={**job_def.run_tags, **run_tags},
        remote_job_origin=remote_origin(job_name),
        job_code_origin=job.get_python_origin(),
    )
    execute_run(job, run, instance, raise_on_error=False)
    return instance.get_run_by_id(run.run_id)
