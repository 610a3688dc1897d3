# A fixed sequence of calls through Ruby's kubeclient (ruby-kubeclient 4.9).
#
# Reads FIDELITY_URL, FIDELITY_CA_FILE, FIDELITY_TOKEN and FIDELITY_NAMESPACE (which exists) and
# prints one JSON list of {"name", "value"} entries: what each call returned, or the error the
# library raised. The fidelity corpus runs it against both servers and compares the lists.

require 'json'
require 'timeout'
require 'kubeclient'

URL = ENV.fetch('FIDELITY_URL')
NS = ENV.fetch('FIDELITY_NAMESPACE')
GROUP_VERSION = 'fleet.iotistic.io/v1alpha1'
# The core resources both servers serve; discovered entities are reduced to these.
SHARED_CORE = %w[namespaces events].freeze

def client_of(path, version)
  Kubeclient::Client.new(
    "#{URL}#{path}", version,
    ssl_options: { ca_file: ENV.fetch('FIDELITY_CA_FILE'), verify_ssl: OpenSSL::SSL::VERIFY_PEER },
    auth_options: { bearer_token: ENV.fetch('FIDELITY_TOKEN') },
    timeouts: { open: 10, read: 10 },
    as: :parsed
  )
end

$transcript = []

# The library's own fields of an exception.
def error_of(error)
  if error.is_a?(Kubeclient::HttpError)
    { error: error.class.name, error_code: error.error_code, message: error.message }
  else
    { error: error.class.name, message: error.message }
  end
end

# Runs one call and records what it returned or raised; returns the result or nil.
def record(name)
  result = yield
  $transcript << { name: name, value: result }
  result
rescue StandardError => e # every failure is part of the transcript
  $transcript << { name: name, value: error_of(e) }
  nil
end

def policy(name, image: 'ghcr.io/acme/web', labels: { client: 'ruby' }, resource_version: nil)
  metadata = { name: name, namespace: NS, labels: labels }
  metadata[:resourceVersion] = resource_version if resource_version
  {
    apiVersion: GROUP_VERSION, kind: 'ImagePolicy', metadata: metadata,
    spec: { image: image, selector: { fleets: ['edge'] } }
  }
end

# The entities a client discovered, by method name.
def entities_of(client)
  client.instance_variable_get(:@entities).transform_values(&:to_h)
end

# Reads `count` notices of a watch, or what came within a few seconds.
def notices(watcher, count)
  seen = []
  begin
    Timeout.timeout(5) do
      watcher.each do |notice|
        seen << { type: notice['type'], object: notice['object'] }
        break if seen.length >= count
      end
    end
  rescue Timeout::Error
    seen << 'timed out'
  ensure
    watcher.finish
  end
  seen
end

def discovery(fleet, core)
  record('fleet discovered before discover') { fleet.discovered }
  record('fleet discover') { fleet.discover && fleet.discovered }
  record('fleet discovered entities') { entities_of(fleet) }
  record('fleet api (the group)') { fleet.api }
  record('fleet api_valid?') { fleet.api_valid? }
  record('core discover') { core.discover && core.discovered }
  record('core discovered entities') { entities_of(core).select { |_, e| SHARED_CORE.include?(e[:resource_name]) } }
  record('core api') { core.api }
end

def namespaces(core)
  record('get_namespace') { core.get_namespace(NS) }
  scratch = { metadata: { name: "#{NS}-scratch", labels: { client: 'ruby' } } }
  record('create_namespace') { core.create_namespace(scratch) }
  record('create_namespace again: 409') { core.create_namespace(scratch) }
  record('get_namespaces by label') { core.get_namespaces(label_selector: 'client=ruby') }
end

def image_policies(fleet)
  created = record('create_image_policy rb-a') { fleet.create_image_policy(policy('rb-a')) }
  record('create_image_policy rb-a again: 409') { fleet.create_image_policy(policy('rb-a')) }
  invalid = policy('rb-invalid')
  invalid[:spec].delete(:image)
  record('create_image_policy without spec.image: 422') { fleet.create_image_policy(invalid) }
  record('create_image_policy rb-b') { fleet.create_image_policy(policy('rb-b', labels: { client: 'other' })) }
  record('get_image_policy rb-a') { fleet.get_image_policy('rb-a', NS) }
  record('get_image_policy a missing one: 404') { fleet.get_image_policy('rb-missing', NS) }
  record('get_image_policies by label') { fleet.get_image_policies(namespace: NS, label_selector: 'client=ruby') }
  created
end

def changes(fleet)
  record('patch_image_policy (strategic merge)') { fleet.patch_image_policy('rb-a', { spec: { image: 'x' } }, NS) }
  patched = record('merge_patch_image_policy') do
    fleet.merge_patch_image_policy('rb-a', { metadata: { annotations: { step: 'patched' } } }, NS)
  end
  if patched
    update = policy('rb-a', image: 'ghcr.io/acme/db', resource_version: patched['metadata']['resourceVersion'])
    record('update_image_policy') { fleet.update_image_policy(update) }
    record('update_image_policy with a stale resourceVersion: 409') { fleet.update_image_policy(update) }
  end
  record('delete_image_policy rb-b') { fleet.delete_image_policy('rb-b', NS) }
  record('delete_image_policy rb-b again: 404') { fleet.delete_image_policy('rb-b', NS) }
end

def watches(fleet, start)
  record('watch_image_policies from rb-a\'s creation') do
    notices(fleet.watch_image_policies(namespace: NS, resource_version: start), 4)
  end
  record('watch_image_policies with a field selector') do
    notices(fleet.watch_image_policies(namespace: NS, resource_version: start, field_selector: 'metadata.name=rb-b'), 2)
  end
  record('watch_image_policies one by name') do
    notices(fleet.watch_image_policies(namespace: NS, name: 'rb-a', resource_version: start), 2)
  end
end

def leases(coordination)
  lease = { metadata: { name: 'rb-lease', namespace: NS }, spec: { holderIdentity: 'ruby', leaseDurationSeconds: 15 } }
  record('create_lease') { coordination.create_lease(lease) }
  read = record('get_lease') { coordination.get_lease('rb-lease', NS) }
  return unless read

  read['spec']['holderIdentity'] = 'ruby-2'
  read = read.transform_keys(&:to_sym)
  read[:metadata] = read[:metadata].transform_keys(&:to_sym)
  record('update_lease') { coordination.update_lease(read) }
  record('get_leases') { coordination.get_leases(namespace: NS) }
end

fleet = client_of('/apis/fleet.iotistic.io', 'v1alpha1')
core = client_of('/api', 'v1')
coordination = client_of('/apis/coordination.k8s.io', 'v1')

discovery(fleet, core)
namespaces(core)
created = image_policies(fleet)
if created
  changes(fleet)
  watches(fleet, created['metadata']['resourceVersion'])
  record('delete_image_policy rb-a') { fleet.delete_image_policy('rb-a', NS) }
end
leases(coordination)
puts JSON.pretty_generate($transcript)
