// On-call's identity for the dead-letter queue. `intake dlq list` receives from it (Data
// Receiver) and `intake dlq replay` sends each message back to the queue (Data Sender); no
// workload holds both, so this identity does, on the submissions queue only. It is federated,
// as the workload identities are (identity.bicep), with one Kubernetes service account that
// only on-call's Jobs run as (.github/scripts/cluster_jobs.py dlq; the chart's
// operator.enabled). Who may start such a Job is decided by AKS RBAC on the namespace, not here
// (docs/runbooks.md).

@description('Azure region of the identity.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name stem, e.g. intake-dev-eus.')
@minLength(3)
@maxLength(40)
param nameStem string

@description('OIDC issuer URL of the AKS cluster.')
@minLength(10)
param oidcIssuerUrl string

@description('Kubernetes namespace the app is installed in.')
@minLength(1)
@maxLength(63)
param namespace string

@description('Kubernetes service account of the operator Jobs (the chart names it <fullname>-operator).')
@minLength(1)
@maxLength(253)
param serviceAccount string

@description('Name of the Service Bus namespace that holds the queue.')
@minLength(6)
@maxLength(50)
param serviceBusNamespaceName string

@description('Name of the queue whose dead letters the operator lists and replays.')
@minLength(1)
@maxLength(260)
param queueName string

var dataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
// The one Kubernetes subject the identity trusts.
var federatedSubject = 'system:serviceaccount:${namespace}:${serviceAccount}'

resource operator 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${nameStem}-operator'
  location: location
  tags: tags
}

resource credential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: operator
  name: 'aks-${namespace}-${serviceAccount}'
  properties: {
    issuer: oidcIssuerUrl
    subject: federatedSubject
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBus
  name: queueName
}

resource receiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, operator.id, dataReceiver)
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
    principalId: operator.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, operator.id, dataSender)
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: operator.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Client id of the operator identity (the chart\'s operator.workloadIdentityClientId).')
output clientId string = operator.properties.clientId

@description('Principal id of the operator identity.')
output principalId string = operator.properties.principalId
