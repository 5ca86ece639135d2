{{/*
The rules the operator needs wherever it manages ChatBots and ApiKeys: exactly the verbs it uses,
one resource per rule. test/chart/least-privilege.test.ts runs the operator under these rules and
shows that taking any single verb away breaks it, so keep the two in step.

- list, watch: every type the operator caches (operator/kit/informer.ts).
- create + patch: children written with server-side apply (a PATCH, which needs create as well
  when the object does not exist yet).
- delete: children a spec change makes unwanted (autoscaler, disruption budget, network policy,
  ingress),
  and an ApiKey's staged Secret after a rotation.
- get: fresh reads after a write (the ApiKey controller plans its next step from the server).
- update: resourceVersion-checked writes (ApiKey finalizers and status, key Secrets).
*/}}
{{- define "clawbot-operator.rules" -}}
- apiGroups: [clawbot.dev]
  resources: [chatbots]
  verbs: [get, list, watch]
- apiGroups: [clawbot.dev]
  resources: [chatbots/status]
  verbs: [patch]
- apiGroups: [clawbot.dev]
  resources: [apikeys]
  verbs: [get, list, watch, update]
- apiGroups: [clawbot.dev]
  resources: [apikeys/status]
  verbs: [update]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, create, patch]
- apiGroups: [""]
  resources: [services]
  verbs: [list, watch, create, patch]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [list, watch, create, patch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [list, watch, create, patch]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, watch, create, patch]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
{{- /* Events about ChatBots and ApiKeys, in their namespace; a repeat bumps the existing Event's count. */}}
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/*
The leader-election Lease in the operator's own namespace (operator/kit/leader-election.ts). Reads
and renewals name the one Lease; a create cannot be limited by name (its name is in the body).
*/}}
{{- define "clawbot-operator.leaseRules" -}}
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [clawbot-operator]
  verbs: [get, update]
{{- end -}}
