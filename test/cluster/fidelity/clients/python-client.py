"""A fixed sequence of calls through the official Python client (python3-kubernetes 22.6).

Reads FIDELITY_URL, FIDELITY_CA_FILE, FIDELITY_TOKEN and FIDELITY_NAMESPACE (which exists) and
prints one JSON list of {"name", "value"} entries: what each call returned, or the error the
library raised. The fidelity corpus runs it against both servers and compares the lists.
"""

import datetime
import json
import os
import sys
import tempfile

import kubernetes
from kubernetes import client, watch
from kubernetes.dynamic import DynamicClient

GROUP, VERSION, PLURAL = 'fleet.iotistic.io', 'v1alpha1', 'imagepolicies'
# The groups both servers serve; discovery documents are reduced to these.
SHARED_GROUPS = {'fleet.iotistic.io', 'coordination.k8s.io', 'events.k8s.io'}
TIME = datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)

URL = os.environ['FIDELITY_URL']
NS = os.environ['FIDELITY_NAMESPACE']

configuration = client.Configuration()
configuration.host = URL
configuration.ssl_ca_cert = os.environ['FIDELITY_CA_FILE']
configuration.api_key = {'authorization': os.environ['FIDELITY_TOKEN']}
configuration.api_key_prefix = {'authorization': 'Bearer'}
api_client = client.ApiClient(configuration)

core = client.CoreV1Api(api_client)
custom = client.CustomObjectsApi(api_client)
coordination = client.CoordinationV1Api(api_client)
events = client.EventsV1Api(api_client)

transcript = []


def plain(value):
    """A returned model or dict as JSON-ready data (models by their wire names)."""
    return api_client.sanitize_for_serialization(value)


def error_of(error):
    """The library's own fields of an exception."""
    if isinstance(error, kubernetes.client.exceptions.ApiException):
        try:
            body = json.loads(error.body) if error.body else None
        except ValueError:
            body = error.body
        return {'error': 'ApiException', 'status': error.status, 'reason': error.reason, 'body': body}
    return {'error': type(error).__name__, 'message': str(error)}


def record(name, call, show=plain):
    """Runs one call and records what it returned (as `show` renders it) or raised."""
    try:
        result = call()
    except Exception as error:  # every failure is part of the transcript
        transcript.append({'name': name, 'value': error_of(error)})
        return None
    transcript.append({'name': name, 'value': show(result)})
    return result


def policy(name, image='ghcr.io/acme/web', labels=None, resource_version=None):
    metadata = {'name': name, 'labels': labels or {'client': 'python'}}
    if resource_version is not None:
        metadata['resourceVersion'] = resource_version
    return {
        'apiVersion': f'{GROUP}/{VERSION}',
        'kind': 'ImagePolicy',
        'metadata': metadata,
        'spec': {'image': image, 'selector': {'fleets': ['edge']}},
    }


def shared_groups(group_list):
    data = plain(group_list)
    data['groups'] = [g for g in data.get('groups') or [] if g['name'] in SHARED_GROUPS]
    return data


def discovery():
    record('ApisApi.get_api_versions', lambda: shared_groups(client.ApisApi(api_client).get_api_versions()))
    record('CoreApi.get_api_versions', lambda: client.CoreApi(api_client).get_api_versions())
    with tempfile.TemporaryDirectory() as cache:
        dynamic = record(
            'DynamicClient discovery',
            lambda: DynamicClient(api_client, cache_file=os.path.join(cache, 'discovery.json')),
            show=lambda dynamic: 'constructed',
        )
        if dynamic:
            record(
                'DynamicClient resources.get ImagePolicy',
                lambda: dynamic.resources.get(api_version=f'{GROUP}/{VERSION}', kind='ImagePolicy').to_dict(),
            )
            record(
                'DynamicClient resources.get Lease',
                lambda: dynamic.resources.get(api_version='coordination.k8s.io/v1', kind='Lease').to_dict(),
            )
            record(
                'DynamicClient resources.get an unknown kind',
                lambda: dynamic.resources.get(api_version=f'{GROUP}/{VERSION}', kind='Widget'),
            )
            record(
                'DynamicClient get ImagePolicies',
                lambda: dynamic.resources.get(api_version=f'{GROUP}/{VERSION}', kind='ImagePolicy')
                .get(namespace=NS)
                .to_dict(),
            )


def namespaces():
    record('CoreV1Api.read_namespace', lambda: core.read_namespace(NS))
    scratch = client.V1Namespace(metadata=client.V1ObjectMeta(name=f'{NS}-scratch', labels={'client': 'python'}))
    record('CoreV1Api.create_namespace', lambda: core.create_namespace(scratch))
    record('CoreV1Api.create_namespace again: 409', lambda: core.create_namespace(scratch))
    record('CoreV1Api.read_namespace a missing one: 404', lambda: core.read_namespace(f'{NS}-missing'))
    record(
        'CoreV1Api.list_namespace by label',
        lambda: core.list_namespace(label_selector='client=python'),
    )


def custom_objects():
    args = (GROUP, VERSION, NS, PLURAL)
    created = record('create py-a', lambda: custom.create_namespaced_custom_object(*args, policy('py-a')))
    record('create py-a again: 409', lambda: custom.create_namespaced_custom_object(*args, policy('py-a')))
    invalid = policy('py-invalid')
    del invalid['spec']['image']
    record('create without spec.image: 422', lambda: custom.create_namespaced_custom_object(*args, invalid))
    record('get py-a', lambda: custom.get_namespaced_custom_object(*args, 'py-a'))
    record('get a missing one: 404', lambda: custom.get_namespaced_custom_object(*args, 'py-missing'))
    record('create py-b', lambda: custom.create_namespaced_custom_object(*args, policy('py-b', labels={'client': 'other'})))
    record(
        'list by label selector',
        lambda: custom.list_namespaced_custom_object(*args, label_selector='client=python'),
    )
    record(
        'list across namespaces by label selector',
        lambda: custom.list_cluster_custom_object(GROUP, VERSION, PLURAL, label_selector='client=python'),
    )
    return created


def watched_changes(created):
    """Changes after py-a's creation, then a watch from its version that replays them."""
    args = (GROUP, VERSION, NS, PLURAL)
    start = created['metadata']['resourceVersion']
    patched = record(
        'merge patch py-a',
        lambda: custom.patch_namespaced_custom_object(
            *args, 'py-a', {'metadata': {'annotations': {'step': 'patched'}}, 'spec': {'image': 'ghcr.io/acme/api'}}
        ),
    )
    if patched:
        replacement = policy('py-a', image='ghcr.io/acme/db', resource_version=patched['metadata']['resourceVersion'])
        record('replace py-a', lambda: custom.replace_namespaced_custom_object(*args, 'py-a', replacement))
        record(
            'replace py-a with a stale resourceVersion: 409',
            lambda: custom.replace_namespaced_custom_object(*args, 'py-a', replacement),
        )
    record('delete py-b', lambda: custom.delete_namespaced_custom_object(*args, 'py-b'))
    record('delete py-b again: 404', lambda: custom.delete_namespaced_custom_object(*args, 'py-b'))

    def stream():
        found = []
        for event in watch.Watch().stream(
            custom.list_namespaced_custom_object, *args, resource_version=start, timeout_seconds=2
        ):
            found.append({'type': event['type'], 'object': event['object']})
        return found

    record('Watch.stream from py-a\'s creation', stream)

    def selected():
        return [
            {'type': event['type'], 'name': event['object']['metadata']['name']}
            for event in watch.Watch().stream(
                custom.list_namespaced_custom_object,
                *args,
                resource_version=start,
                label_selector='client=other',
                timeout_seconds=1,
            )
        ]

    record('Watch.stream with a label selector', selected)
    record('delete py-a', lambda: custom.delete_namespaced_custom_object(*args, 'py-a'))


def leases():
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name='py-lease'),
        spec=client.V1LeaseSpec(holder_identity='python', lease_duration_seconds=15, renew_time=TIME),
    )
    created = record('CoordinationV1Api.create_namespaced_lease', lambda: coordination.create_namespaced_lease(NS, body))
    lease = record('CoordinationV1Api.read_namespaced_lease', lambda: coordination.read_namespaced_lease('py-lease', NS))
    if created and lease:
        lease.spec.holder_identity = 'python-2'
        lease.spec.lease_transitions = 1
        record(
            'CoordinationV1Api.replace_namespaced_lease',
            lambda: coordination.replace_namespaced_lease('py-lease', NS, lease),
        )
        record(
            'CoordinationV1Api.replace_namespaced_lease with a stale version: 409',
            lambda: coordination.replace_namespaced_lease('py-lease', NS, lease),
        )


def events_v1():
    body = client.EventsV1Event(
        metadata=client.V1ObjectMeta(name='py-event'),
        event_time=TIME,
        reporting_controller='fleet.iotistic.io/python',
        reporting_instance='python-0',
        action='Reconcile',
        reason='Tested',
        type='Normal',
        note='from the python client',
        regarding=client.V1ObjectReference(api_version=f'{GROUP}/{VERSION}', kind='ImagePolicy', namespace=NS, name='py-a'),
    )
    record('EventsV1Api.create_namespaced_event', lambda: events.create_namespaced_event(NS, body))
    record('EventsV1Api.read_namespaced_event', lambda: events.read_namespaced_event('py-event', NS))
    record(
        'EventsV1Api.list_namespaced_event by regarding.name',
        lambda: events.list_namespaced_event(NS, field_selector='regarding.name=py-a'),
    )


discovery()
namespaces()
created = custom_objects()
if created:
    watched_changes(created)
leases()
events_v1()
json.dump(transcript, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write('\n')
