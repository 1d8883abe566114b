// Optional Azure Cache for Redis: the admin read cache. Access keys are off; admin-api gets a
// Redis data access policy (Entra ID auth) and reaches it through its private endpoint.

@description('Azure region of the cache.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Globally unique cache name.')
@minLength(1)
@maxLength(63)
param cacheName string

@description('Cache tier.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string

@description('Cache size within the tier (C0-C6, P1-P5).')
@minValue(0)
@maxValue(6)
param capacity int

@description('Data-owner identities: object id and a readable alias each.')
@maxLength(10)
param dataContributors array

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

var premium = skuName == 'Premium'

resource cache 'Microsoft.Cache/redis@2024-03-01' = {
  name: cacheName
  location: location
  tags: tags
  zones: premium ? [
    '1'
    '2'
    '3'
  ] : null
  properties: {
    sku: {
      name: skuName
      family: premium ? 'P' : 'C'
      capacity: capacity
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Disabled'
    disableAccessKeyAuthentication: true
    redisConfiguration: {
      'aad-enabled': 'true'
    }
  }
}

resource accessPolicies 'Microsoft.Cache/redis/accessPolicyAssignments@2024-03-01' = [
  for (contributor, i) in dataContributors: {
    parent: cache
    name: contributor.alias
    properties: {
      accessPolicyName: 'Data Contributor'
      objectId: contributor.principalId
      objectIdAlias: contributor.alias
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cache
  properties: {
    workspaceId: logAnalyticsWorkspaceId
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

@description('Resource id of the cache.')
output cacheId string = cache.id

@description('Host name of the cache (TLS port 6380).')
output hostName string = cache.properties.hostName
