// Client onboarding platform on Azure, one deployment per environment:
//   az deployment sub create --location eastus --template-file main.bicep --parameters env/dev.bicepparam
// Two modes. Landing zone (useLandingZone = true): the A10 Terraform already made the resource
// group, the VNet with its aks-nodes / ingress subnets, the AKS control-plane identity, the shared
// registry and the central Log Analytics workspace; they are used through `existing` and only what
// the app adds is created. Standalone: equivalents are created for a subscription without it.
targetScope = 'subscription'

// ---------------------------------------------------------------- environment and naming
@description('Environment name; drives sizing, redundancy and names.')
@allowed([
  'dev'
  'staging'
  'prod'
])
param environmentName string

@description('Primary region (the landing zone allows eastus and eastus2).')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Cosmos DB failover region used when geo-replication is on.')
@allowed([
  'eastus'
  'eastus2'
])
param secondaryLocation string

@description('Short prefix of every resource name (lowercase letters and digits).')
@minLength(2)
@maxLength(8)
param namePrefix string

@description('Team or person accountable for the resources (owner tag).')
@minLength(2)
@maxLength(64)
param owner string

@description('Cost center the resources are charged to (costCenter tag).')
@minLength(2)
@maxLength(32)
param costCenter string

// ---------------------------------------------------------------- landing zone
@description('True to deploy into the A10 landing zone (existing resource group, VNet, registry, workspace).')
param useLandingZone bool

@description('Organisation segment of landing-zone names, as in rg-<org>-sales-<env>.')
@minLength(2)
@maxLength(16)
param landingZoneOrg string

@description('Environment segment of landing-zone names (the A10 Terraform says stage, not staging).')
@allowed([
  'dev'
  'stage'
  'prod'
])
param landingZoneEnvironment string

@description('Subscription holding the shared resources (registry, central workspace); empty for this one.')
@maxLength(36)
param sharedSubscriptionId string

@description('Resource group of the shared resources in the landing zone.')
@minLength(1)
@maxLength(90)
param sharedResourceGroupName string

@description('Name of the existing container registry in the shared resource group; empty to create one.')
@maxLength(50)
param existingRegistryName string

@description('Name of the existing Log Analytics workspace in the shared resource group; empty to create one.')
@maxLength(63)
param existingLogAnalyticsWorkspaceName string

@description('Private IP of the landing-zone hub firewall for AKS egress; empty for none.')
@maxLength(15)
param hubFirewallPrivateIp string

@description('True to deploy an Azure Firewall of our own for egress (when no hub firewall exists).')
param deployFirewall bool

@description('Subscription of existing private DNS zones (landing-zone hub); empty to create zones here.')
@maxLength(36)
param privateDnsZonesSubscriptionId string

@description('Resource group of existing private DNS zones; empty to create zones here.')
@maxLength(90)
param privateDnsZonesResourceGroupName string

// ---------------------------------------------------------------- network
@description('Address space of the VNet created in standalone mode.')
@minLength(9)
@maxLength(18)
param vnetAddressPrefix string

@description('CIDR of the AKS nodes subnet (in landing-zone mode, the existing one).')
@minLength(9)
@maxLength(18)
param aksSubnetPrefix string

@description('CIDR of the ingress subnet (in landing-zone mode, the existing one).')
@minLength(9)
@maxLength(18)
param ingressSubnetPrefix string

@description('CIDR of the private endpoints subnet this app adds.')
@minLength(9)
@maxLength(18)
param privateEndpointSubnetPrefix string

@description('CIDR of the Function App integration subnet this app adds.')
@minLength(9)
@maxLength(18)
param functionsSubnetPrefix string

@description('CIDR of AzureFirewallSubnet (used only with deployFirewall).')
@minLength(9)
@maxLength(18)
param firewallSubnetPrefix string

// ---------------------------------------------------------------- AKS
@description('AKS tier: Standard has the uptime SLA.')
@allowed([
  'Free'
  'Standard'
])
param aksSkuTier string

@description('VM size of the system pool (landing-zone policy allows these sizes only).')
@allowed([
  'Standard_B2s'
  'Standard_B2ms'
  'Standard_D2s_v3'
  'Standard_D4s_v3'
  'Standard_D2s_v4'
  'Standard_D4s_v4'
])
param aksSystemNodeVmSize string

@description('Node count of the system pool.')
@minValue(1)
@maxValue(10)
param aksSystemNodeCount int

@description('VM size of the user pool.')
@allowed([
  'Standard_B2s'
  'Standard_B2ms'
  'Standard_D2s_v3'
  'Standard_D4s_v3'
  'Standard_D2s_v4'
  'Standard_D4s_v4'
])
param aksUserNodeVmSize string

@description('Minimum nodes of the user pool.')
@minValue(1)
@maxValue(50)
param aksUserNodeMinCount int

@description('Maximum nodes of the user pool.')
@minValue(1)
@maxValue(100)
param aksUserNodeMaxCount int

@description('True to add a spot pool for non-critical work.')
param aksEnableSpotPool bool

@description('VM size of the spot pool.')
@allowed([
  'Standard_D2s_v3'
  'Standard_D4s_v3'
  'Standard_D2s_v4'
  'Standard_D4s_v4'
])
param aksSpotNodeVmSize string

@description('Maximum nodes of the spot pool.')
@minValue(1)
@maxValue(50)
param aksSpotNodeMaxCount int

@description('CIDRs allowed to reach the Kubernetes API server (CI uses az aks command invoke).')
@minLength(1)
@maxLength(200)
param aksApiServerAuthorizedIpRanges array

@description('Entra ID groups with cluster admin (Azure RBAC) and Grafana Admin.')
@maxLength(10)
param adminGroupObjectIds array

@description('Kubernetes namespace the chart installs into.')
@minLength(1)
@maxLength(63)
param kubernetesNamespace string

// ---------------------------------------------------------------- data and messaging
@description('Cosmos DB capacity: Serverless (dev) or Autoscale (prod).')
@allowed([
  'Serverless'
  'Autoscale'
])
param cosmosCapacityMode string

@description('Autoscale ceiling of the Cosmos database in RU/s.')
@minValue(1000)
@maxValue(100000)
param cosmosAutoscaleMaxThroughput int

@description('True for zone-redundant Cosmos DB regions.')
param cosmosZoneRedundant bool

@description('True to replicate Cosmos DB to secondaryLocation with automatic failover.')
param cosmosGeoReplication bool

@description('Point-in-time restore window of Cosmos DB.')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param cosmosBackupTier string

@description('Service Bus tier: Standard (dev) or Premium (zone redundant, private endpoint).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string

@description('Messaging units of a Premium Service Bus namespace.')
@allowed([
  1
  2
  4
  8
  16
])
param serviceBusPremiumCapacity int

@description('True to deploy Azure Cache for Redis as the admin read cache.')
param deployRedis bool

@description('Redis tier.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSkuName string

@description('Redis size within the tier.')
@minValue(0)
@maxValue(6)
param redisCapacity int

// ---------------------------------------------------------------- functions, edge, email
@description('Maximum Function App instances.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int

@description('Memory per Function App instance in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int

@description('Front Door tier.')
@allowed([
  'Premium_AzureFrontDoor'
  'Standard_AzureFrontDoor'
])
param frontDoorSku string

@description('WAF mode.')
@allowed([
  'Detection'
  'Prevention'
])
param wafMode string

@description('POST requests per minute per client IP before the WAF blocks.')
@minValue(10)
@maxValue(10000)
param wafPostRateLimitPerMinute int

@description('Address ranges (CIDR) staff may open /admin from, checked by Front Door\'s WAF; empty: from anywhere (the Entra ID sign-in still applies).')
@maxLength(50)
param staffAllowedSourceRanges array

@description('Where Communication Services keeps email data at rest.')
@allowed([
  'United States'
  'Europe'
])
param emailDataLocation string

// ---------------------------------------------------------------- monitoring and cost
@description('Retention of a Log Analytics workspace created here, in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int

@description('Daily ingestion cap of a workspace created here, in GB (-1 for none).')
@minValue(-1)
@maxValue(100)
param logDailyQuotaGb int

@description('Email of the on-call list (alerts and budget).')
@minLength(6)
@maxLength(254)
param alertEmailAddress string

@secure()
@maxLength(500)
@description('PagerDuty Events v2 webhook URL; read from the PAGERDUTY_WEBHOOK_URL environment variable, empty for email only.')
param pagerDutyWebhookUrl string

@description('Availability SLO of intake-api, e.g. 0.999.')
@allowed([
  '0.99'
  '0.995'
  '0.999'
  '0.9995'
])
param availabilitySlo string

@description('Age in minutes of the oldest unpublished outbox event above which OutboxStale fires (after 10 more minutes).')
@minValue(5)
@maxValue(120)
param outboxMaxAgeMinutes int

@description('Fewest replicas of the notify worker: the chart\'s services.notify.keda.minReplicaCount in values-<env>.yaml. The NotifyDown alert is deployed only when it is 1 or more.')
@minValue(0)
@maxValue(50)
param notifyMinReplicas int

@description('Active messages in the Service Bus queue above which, held for 15 minutes, the backlog alert fires.')
@minValue(1)
@maxValue(100000)
param queueBacklogThreshold int

@description('Address of each alert\'s runbook, {alert} standing for the alert\'s name (the chart: monitoring.prometheusRule.runbookUrl): the alerts\' runbook_url and the metric alerts\' descriptions. Read from RUNBOOK_URL, which infra.yml sets to this repository\'s docs/runbooks.')
@minLength(20)
@maxLength(300)
param runbookUrl string

@description('Object (principal) id of this environment\'s CD identity (id-onboarding-deploy-<env>, cicd.md), given Grafana Editor and Reader on the Grafana instance only, so that deploy-env.yml imports the dashboard. Read from DEPLOY_PRINCIPAL_ID; empty for none.')
@maxLength(36)
param deployPrincipalId string

@description('Monthly budget of the resource group.')
@minValue(10)
@maxValue(1000000)
param monthlyBudget int

@description('First month of the budget, yyyy-MM-01.')
@minLength(10)
@maxLength(10)
param budgetStartDate string

@description('True to create the Chaos Studio pod-kill experiment (needs Chaos Mesh in the cluster).')
param enableChaosExperiment bool

// ================================================================ names
var regionAbbreviations = {
  eastus: 'eus'
  eastus2: 'eus2'
}
var envShort = {
  dev: 'dev'
  staging: 'stg'
  prod: 'prd'
}[environmentName]
var stem = '${namePrefix}-${environmentName}-${regionAbbreviations[location]}'
var suffix = take(uniqueString(subscription().id, namePrefix, environmentName, location), 6)
var globalStem = '${namePrefix}-${envShort}-${suffix}'
var lzStem = '${landingZoneOrg}-sales-${landingZoneEnvironment}'

var names = {
  resourceGroup: useLandingZone ? 'rg-${lzStem}' : 'rg-${stem}'
  vnet: useLandingZone ? 'vnet-${lzStem}' : 'vnet-${stem}'
  subnetPrefix: useLandingZone ? 'snet-${lzStem}' : 'snet-${stem}'
  aksControlPlaneIdentity: 'id-${lzStem}'
  aks: 'aks-${stem}'
  cosmos: 'cosmos-${globalStem}'
  serviceBus: 'sbns-${globalStem}'
  keyVault: 'kv-${globalStem}'
  redis: 'redis-${globalStem}'
  functionApp: 'func-${globalStem}'
  functionStorage: toLower('st${namePrefix}${envShort}${suffix}fn')
  registry: empty(existingRegistryName) ? toLower('acr${namePrefix}${envShort}${suffix}') : existingRegistryName
  grafana: 'amg-${globalStem}'
  frontDoorEndpoint: 'fde-${globalStem}'
  wafPolicy: 'waf${namePrefix}${envShort}'
  ingressDnsLabel: '${namePrefix}-${environmentName}-ingress-${suffix}'
  budget: 'budget-${stem}'
}

var tags = {
  env: environmentName
  Environment: useLandingZone ? landingZoneEnvironment : environmentName
  app: 'client-onboarding'
  owner: owner
  costCenter: costCenter
}

// The workloads and their Kubernetes service accounts: the chart (fullnameOverride: onboarding)
// names them onboarding-<component>.
var workloads = [
  {
    name: 'intake-ui'
    serviceAccount: 'onboarding-intake-ui'
  }
  {
    name: 'intake-api'
    serviceAccount: 'onboarding-intake-api'
  }
  {
    name: 'admin-api'
    serviceAccount: 'onboarding-admin-api'
  }
  {
    name: 'notify'
    serviceAccount: 'onboarding-notify'
  }
]

var landingZoneControlPlaneIdentityId = resourceId(subscription().subscriptionId, names.resourceGroup, 'Microsoft.ManagedIdentity/userAssignedIdentities', names.aksControlPlaneIdentity)
var sharedSubscription = empty(sharedSubscriptionId) ? subscription().subscriptionId : sharedSubscriptionId
var createDnsZones = empty(privateDnsZonesResourceGroupName)
// Azure Firewall takes the first usable address of its subnet (network address + 4).
var firewallSubnetOctets = split(split(firewallSubnetPrefix, '/')[0], '.')
var ownFirewallIp = '${join(take(firewallSubnetOctets, 3), '.')}.${int(firewallSubnetOctets[3]) + 4}'
var egressNextHopIp = deployFirewall ? ownFirewallIp : hubFirewallPrivateIp

// ================================================================ resource group
resource standaloneResourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = if (!useLandingZone) {
  name: names.resourceGroup
  location: location
  tags: tags
}

resource landingZoneResourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' existing = if (useLandingZone) {
  name: names.resourceGroup
}

resource existingWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = if (!empty(existingLogAnalyticsWorkspaceName)) {
  name: empty(existingLogAnalyticsWorkspaceName) ? 'none' : existingLogAnalyticsWorkspaceName
  scope: resourceGroup(sharedSubscription, sharedResourceGroupName)
}

// ================================================================ network and egress
module network 'modules/network.bicep' = {
  name: 'network-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    useExistingVnet: useLandingZone
    vnetName: names.vnet
    vnetAddressPrefix: vnetAddressPrefix
    subnetNamePrefix: names.subnetPrefix
    aksSubnetPrefix: aksSubnetPrefix
    ingressSubnetPrefix: ingressSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    functionsSubnetPrefix: functionsSubnetPrefix
    firewallSubnetPrefix: deployFirewall ? firewallSubnetPrefix : ''
    egressNextHopIp: egressNextHopIp
  }
  dependsOn: [
    standaloneResourceGroup
    landingZoneResourceGroup
  ]
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    grafanaName: take(names.grafana, 23)
    existingLogAnalyticsWorkspaceId: empty(existingLogAnalyticsWorkspaceName) ? '' : existingWorkspace.id
    logRetentionDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
    zoneRedundant: environmentName == 'prod'
    adminGroupObjectIds: adminGroupObjectIds
    dashboardPublisherPrincipalId: deployPrincipalId
    alertEmailAddress: alertEmailAddress
    pagerDutyWebhookUrl: pagerDutyWebhookUrl
  }
  dependsOn: [
    standaloneResourceGroup
    landingZoneResourceGroup
  ]
}

module firewall 'modules/firewall.bicep' = if (deployFirewall) {
  name: 'firewall-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    firewallSubnetId: network.outputs.firewallSubnetId
    aksSubnetPrefix: aksSubnetPrefix
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module privateDns 'modules/privatedns.bicep' = {
  name: 'private-dns-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    tags: tags
    createZones: createDnsZones
    existingZonesSubscriptionId: empty(privateDnsZonesSubscriptionId) ? subscription().subscriptionId : privateDnsZonesSubscriptionId
    existingZonesResourceGroupName: privateDnsZonesResourceGroupName
    vnetId: network.outputs.vnetId
  }
}

// ================================================================ cluster and identities
module aks 'modules/aks.bicep' = {
  name: 'aks-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    clusterName: names.aks
    nodeSubnetId: network.outputs.aksSubnetId
    existingControlPlaneIdentityId: useLandingZone ? landingZoneControlPlaneIdentityId : ''
    routeTableId: network.outputs.routeTableId
    skuTier: aksSkuTier
    systemNodeVmSize: aksSystemNodeVmSize
    systemNodeCount: aksSystemNodeCount
    userNodeVmSize: aksUserNodeVmSize
    userNodeMinCount: aksUserNodeMinCount
    userNodeMaxCount: aksUserNodeMaxCount
    enableSpotPool: aksEnableSpotPool
    spotNodeVmSize: aksSpotNodeVmSize
    spotNodeMaxCount: aksSpotNodeMaxCount
    apiServerAuthorizedIpRanges: aksApiServerAuthorizedIpRanges
    adminGroupObjectIds: adminGroupObjectIds
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    prometheusWorkspaceId: monitoring.outputs.prometheusWorkspaceId
  }
  dependsOn: [
    firewall
  ]
}

module registry 'modules/acr.bicep' = {
  name: 'registry-${environmentName}'
  scope: resourceGroup(empty(existingRegistryName) ? subscription().subscriptionId : sharedSubscription, empty(existingRegistryName) ? names.resourceGroup : sharedResourceGroupName)
  params: {
    location: location
    tags: tags
    createRegistry: empty(existingRegistryName)
    registryName: names.registry
    kubeletPrincipalId: aks.outputs.kubeletPrincipalId
  }
}

module identities 'modules/identity.bicep' = {
  name: 'identities-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
    namespace: kubernetesNamespace
    workloads: workloads
    // The AKS KEDA add-on's operator (aks.bicep, workloadAutoScalerProfile.keda).
    kedaOperatorServiceAccount: 'kube-system/keda-operator'
  }
}

// Indexes follow `workloads`: 0 intake-ui, 1 intake-api, 2 admin-api, 3 notify.
var intakeUi = identities.outputs.identities[0]
var intakeApi = identities.outputs.identities[1]
var adminApi = identities.outputs.identities[2]
var notify = identities.outputs.identities[3]

// ================================================================ data, messaging, secrets
module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    secondaryLocation: secondaryLocation
    tags: tags
    accountName: names.cosmos
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    zoneRedundant: cosmosZoneRedundant
    enableGeoReplication: cosmosGeoReplication
    backupTier: cosmosBackupTier
    dataContributorPrincipalIds: [
      intakeApi.principalId
      adminApi.principalId
      notify.principalId
    ]
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    idempotencyTtlDays: 7
    ledgerTtlDays: 30
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    namespaceName: names.serviceBus
    skuName: serviceBusSku
    premiumCapacity: serviceBusPremiumCapacity
    senderPrincipalIds: [
      intakeApi.principalId
    ]
    // notify consumes the queue. admin-api's identity is the retention job's (the CronJob runs as
    // admin-api's account), which purges the dead letters of erased records and old ones after
    // its erasures: receiving from the dead-letter queue takes Receiver, and the store
    // check takes the data role it already holds. admin-api itself opens no Service Bus link.
    receiverPrincipalIds: [
      notify.principalId
      adminApi.principalId
    ]
    queueScalerPrincipalIds: [
      identities.outputs.scaler.principalId
    ]
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    vaultName: names.keyVault
    softDeleteRetentionDays: environmentName == 'prod' ? 90 : 7
    // Each workload's SecretProviderClass mounts its secrets with its own identity, and every
    // workload mounts the App Insights connection string.
    secretsUserPrincipalIds: [
      intakeUi.principalId
      intakeApi.principalId
      adminApi.principalId
      notify.principalId
    ]
    appInsightsName: monitoring.outputs.appInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module redis 'modules/redis.bicep' = if (deployRedis) {
  name: 'redis-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    cacheName: names.redis
    skuName: redisSkuName
    capacity: redisCapacity
    dataContributors: [
      {
        alias: 'admin-api'
        principalId: adminApi.principalId
      }
    ]
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module email 'modules/acs.bicep' = {
  name: 'email-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    tags: tags
    nameStem: globalStem
    dataLocation: emailDataLocation
    senderPrincipalIds: [
      notify.principalId
    ]
  }
}

module telemetryAccess 'modules/telemetry-access.bicep' = {
  name: 'telemetry-access-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    appInsightsName: monitoring.outputs.appInsightsName
    publisherPrincipalIds: [
      intakeUi.principalId
      intakeApi.principalId
      adminApi.principalId
      notify.principalId
    ]
  }
}

// ================================================================ on-call operator
// `intake dlq list|replay` in Azure: on-call runs it as a Job in the cluster
// (.github/scripts/cluster_jobs.py dlq), which alone reaches the queue where it is private. The
// Job's service account (the chart's operator.enabled) is federated with an identity of its
// own, the only one with both Data Receiver and Data Sender, on the queue only.
module operator 'modules/operator.bicep' = {
  name: 'operator-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
    namespace: kubernetesNamespace
    serviceAccount: 'onboarding-operator'
    serviceBusNamespaceName: names.serviceBus
    queueName: serviceBus.outputs.queueName
  }
}

// ================================================================ notify function
module functionApp 'modules/functions.bicep' = {
  name: 'functions-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    appName: names.functionApp
    storageAccountName: take(names.functionStorage, 24)
    identityId: notify.id
    identityClientId: notify.clientId
    identityPrincipalId: notify.principalId
    integrationSubnetId: network.outputs.functionsSubnetId
    appInsightsName: monitoring.outputs.appInsightsName
    serviceBusNamespaceFqdn: serviceBus.outputs.fullyQualifiedNamespace
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    appSettings: [
      {
        name: 'ENVIRONMENT'
        value: environmentName
      }
      {
        name: 'STORE'
        value: 'cosmos'
      }
      {
        name: 'BUS'
        value: 'servicebus'
      }
      {
        name: 'MAILER'
        value: 'acs'
      }
      {
        name: 'COSMOS_ENDPOINT'
        value: cosmos.outputs.endpoint
      }
      {
        name: 'COSMOS_DATABASE'
        value: cosmos.outputs.databaseName
      }
      {
        name: 'SERVICEBUS_NAMESPACE'
        value: serviceBus.outputs.fullyQualifiedNamespace
      }
      {
        name: 'SERVICEBUS_QUEUE'
        value: serviceBus.outputs.queueName
      }
      {
        name: 'ACS_ENDPOINT'
        value: email.outputs.endpoint
      }
      {
        name: 'MAIL_SENDER'
        value: email.outputs.senderAddress
      }
    ]
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// ================================================================ private endpoints
// The list is known before anything deploys (a for-loop needs that); targets resolve per item.
var privateEndpoints = concat([
    {
      name: 'cosmos'
      groupId: 'Sql'
      zone: 'cosmos'
    }
    {
      name: 'keyvault'
      groupId: 'vault'
      zone: 'keyvault'
    }
    {
      name: 'func-storage'
      groupId: 'blob'
      zone: 'blob'
    }
  ], serviceBusSku == 'Premium' ? [
    {
      name: 'servicebus'
      groupId: 'namespace'
      zone: 'servicebus'
    }
  ] : [], deployRedis ? [
    {
      name: 'redis'
      groupId: 'redisCache'
      zone: 'redis'
    }
  ] : [])

var endpointTargets = {
  cosmos: cosmos.outputs.accountId
  keyvault: keyVault.outputs.vaultId
  'func-storage': functionApp.outputs.storageAccountId
  servicebus: serviceBus.outputs.namespaceId
  redis: deployRedis ? redis.outputs.cacheId : ''
}

module endpoints 'modules/privateendpoint.bicep' = [
  for endpoint in privateEndpoints: {
    name: 'pe-${endpoint.name}-${environmentName}'
    scope: resourceGroup(names.resourceGroup)
    params: {
      location: location
      tags: tags
      endpointName: 'pe-${stem}-${endpoint.name}'
      subnetId: network.outputs.privateEndpointSubnetId
      targetResourceId: endpointTargets[endpoint.name]
      groupId: endpoint.groupId
      privateDnsZoneId: privateDns.outputs.zoneIds[endpoint.zone]
    }
  }
]

// ================================================================ edge, alerts, cost, chaos
module frontDoor 'modules/frontdoor.bicep' = {
  name: 'frontdoor-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    tags: tags
    nameStem: stem
    endpointName: names.frontDoorEndpoint
    wafPolicyName: names.wafPolicy
    skuName: frontDoorSku
    wafMode: wafMode
    postRateLimitPerMinute: wafPostRateLimitPerMinute
    staffAllowedSourceRanges: staffAllowedSourceRanges
    originHostName: '${names.ingressDnsLabel}.${location}.cloudapp.azure.com'
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
  dependsOn: [
    standaloneResourceGroup
    landingZoneResourceGroup
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    pageActionGroupId: monitoring.outputs.pageActionGroupId
    ticketActionGroupId: monitoring.outputs.ticketActionGroupId
    prometheusWorkspaceId: monitoring.outputs.prometheusWorkspaceId
    clusterId: aks.outputs.clusterId
    serviceBusNamespaceId: serviceBus.outputs.namespaceId
    queueName: serviceBus.outputs.queueName
    kubernetesNamespace: kubernetesNamespace
    availabilitySlo: availabilitySlo
    outboxMaxAgeMinutes: outboxMaxAgeMinutes
    notifyMinReplicas: notifyMinReplicas
    queueBacklogThreshold: queueBacklogThreshold
    runbookUrl: runbookUrl
  }
}

module budget 'modules/budget.bicep' = {
  name: 'budget-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    budgetName: names.budget
    amount: monthlyBudget
    startDate: budgetStartDate
    contactEmails: [
      alertEmailAddress
    ]
    // Spending is a working-hours matter: the ticket group emails, it never pages.
    actionGroupId: monitoring.outputs.ticketActionGroupId
  }
}

module chaos 'modules/chaos.bicep' = if (enableChaosExperiment) {
  name: 'chaos-${environmentName}'
  scope: resourceGroup(names.resourceGroup)
  params: {
    location: location
    tags: tags
    nameStem: stem
    clusterName: aks.outputs.clusterName
    namespace: kubernetesNamespace
  }
}

// ================================================================ outputs (no secrets)
@description('Resource group of the app.')
output resourceGroupName string = names.resourceGroup

@description('AKS cluster name (az aks get-credentials / command invoke).')
output aksClusterName string = aks.outputs.clusterName

@description('OIDC issuer of the cluster.')
output aksOidcIssuerUrl string = aks.outputs.oidcIssuerUrl

@description('Client id of the Key Vault CSI add-on identity.')
output keyVaultCsiClientId string = aks.outputs.keyVaultCsiClientId

@description('Registry login server the chart pulls images from.')
output acrLoginServer string = registry.outputs.loginServer

@description('Kubernetes namespace the federated credentials trust.')
output kubernetesNamespace string = kubernetesNamespace

@description('Workload identity client id per service account (azure.workload.identity/client-id).')
output workloadIdentityClientIds object = {
  intakeUi: intakeUi.clientId
  intakeApi: intakeApi.clientId
  adminApi: adminApi.clientId
  notify: notify.clientId
}

@description('Client id KEDA reads the queue with (services.notify.keda.identityId in the chart).')
output kedaScalerClientId string = identities.outputs.scaler.clientId

@description('Client id of on-call\'s operator identity (operator.workloadIdentityClientId in the chart).')
output operatorClientId string = operator.outputs.clientId

@description('Entra tenant id for the workload identity annotations.')
output tenantId string = tenant().tenantId

@description('Cosmos DB document endpoint.')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('Cosmos DB database name.')
output cosmosDatabaseName string = cosmos.outputs.databaseName

@description('Service Bus fully qualified namespace.')
output serviceBusFullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('Service Bus queue name.')
output serviceBusQueueName string = serviceBus.outputs.queueName

@description('Key Vault URI.')
output keyVaultUri string = keyVault.outputs.vaultUri

@description('Key Vault name (SecretProviderClass keyvaultName).')
output keyVaultName string = keyVault.outputs.vaultName

@description('Application Insights resource id; read its connection string with az at deploy time.')
output appInsightsResourceId string = monitoring.outputs.appInsightsId

@description('Communication Services endpoint for the mailer.')
output acsEndpoint string = email.outputs.endpoint

@description('Sender address on the Azure-managed email domain.')
output mailSender string = email.outputs.senderAddress

@description('Redis host name, empty when Redis is not deployed.')
output redisHostName string = deployRedis ? redis.outputs.hostName : ''

@description('Function App name (CI publishes the notify package to it).')
output functionAppName string = functionApp.outputs.appName

@description('DNS label the ingress controller service must carry (the Front Door origin).')
output ingressDnsLabel string = names.ingressDnsLabel

@description('Subnet name for an internal ingress load balancer.')
output ingressSubnetName string = network.outputs.ingressSubnetName

@description('Public host name of the Front Door endpoint.')
output frontDoorHostName string = frontDoor.outputs.endpointHostName

@description('Front Door id the ingress must require in X-Azure-FDID.')
output frontDoorId string = frontDoor.outputs.frontDoorId

@description('Managed Grafana endpoint.')
output grafanaEndpoint string = monitoring.outputs.grafanaEndpoint

@description('Managed Grafana name: the GRAFANA_NAME variable of the environment, for deploy-env.yml\'s dashboard import.')
output grafanaName string = monitoring.outputs.grafanaName
