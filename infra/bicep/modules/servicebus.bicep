// Service Bus: the event bus. Standard in dev, Premium zone-redundant (private endpoint in
// main) in prod. Local SAS auth is off: intake-api may only send; notify, and the retention job
// (admin-api's identity) to purge dead letters, may only receive; and KEDA's scaler identity may
// read the queue's message counts. On-call's operator identity, which may do both to replay dead
// letters, gets its roles on this queue in operator.bicep.

@description('Azure region of the namespace.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Globally unique namespace name.')
@minLength(6)
@maxLength(50)
param namespaceName string

@description('Namespace tier.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string

@description('Messaging units of a Premium namespace (ignored for Standard).')
@allowed([
  1
  2
  4
  8
  16
])
param premiumCapacity int

@description('Principal ids given Azure Service Bus Data Sender on the queue.')
@maxLength(10)
param senderPrincipalIds array

@description('Principal ids given Azure Service Bus Data Receiver on the queue.')
@maxLength(10)
param receiverPrincipalIds array

@description('Principal ids that read the runtime properties (message counts) of the queue for KEDA.')
@maxLength(2)
param queueScalerPrincipalIds array

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

var premium = skuName == 'Premium'
var queueName = 'submissions'
var dataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
// KEDA's azure-servicebus scaler reads the queue's runtime properties through the management
// (ATOM) endpoint, which wants the Manage claim; with Entra ID only Data Owner carries it (Sender
// and Receiver do not). So: Data Owner, on this one queue, for the scaler's own identity only.
var dataOwner = '090c5cfd-751d-490a-894a-3ce6f1109419'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: premium ? premiumCapacity : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    // Standard has no private endpoints: it stays public but only Entra ID tokens get in.
    publicNetworkAccess: premium ? 'Disabled' : 'Enabled'
    zoneRedundant: premium
    premiumMessagingPartitions: premium ? 1 : 0
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: premium ? 5120 : 1024
  }
}

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in senderPrincipalIds: {
    name: guid(queue.id, principalId, dataSender)
    scope: queue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource receivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in receiverPrincipalIds: {
    name: guid(queue.id, principalId, dataReceiver)
    scope: queue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource queueScalers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in queueScalerPrincipalIds: {
    name: guid(queue.id, principalId, dataOwner)
    scope: queue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataOwner)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the namespace.')
output namespaceId string = namespace.id

@description('Fully qualified namespace host name (what the SDK and the Function connection use).')
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'

@description('Name of the queue.')
output queueName string = queue.name
