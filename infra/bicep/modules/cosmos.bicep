// Cosmos DB for NoSQL: the submission store. Local (key) auth is off, so the only way in is a
// data-plane role: Cosmos DB Built-in Data Contributor scoped to the `intake` database for the
// intake-api, admin-api and notify identities. Serverless in dev, shared autoscale elsewhere;
// zone redundant, geo-replicated (eastus -> eastus2) in prod, continuous backup everywhere.

@description('Azure region of the account (the write region).')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Read/failover region used when geo-replication is on.')
@allowed([
  'eastus'
  'eastus2'
])
param secondaryLocation string

@description('Tags applied to every resource.')
param tags object

@description('Globally unique account name.')
@minLength(3)
@maxLength(44)
param accountName string

@description('Serverless (pay per request) or provisioned autoscale throughput.')
@allowed([
  'Serverless'
  'Autoscale'
])
param capacityMode string

@description('Shared autoscale ceiling of the database in RU/s (ignored when serverless).')
@minValue(1000)
@maxValue(100000)
param autoscaleMaxThroughput int

@description('True for availability-zone redundancy in every region.')
param zoneRedundant bool

@description('True to add the secondary region with automatic failover (autoscale only).')
param enableGeoReplication bool

@description('Continuous backup tier (point-in-time restore window).')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param backupTier string

@description('Principal ids given Cosmos DB Built-in Data Contributor on the database.')
@maxLength(10)
param dataContributorPrincipalIds array

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

@description('Days an idempotency key is kept before TTL removes it.')
@minValue(1)
@maxValue(90)
param idempotencyTtlDays int

@description('Days a handled event id stays in the notify ledger (must exceed the bus retry horizon).')
@minValue(1)
@maxValue(365)
param ledgerTtlDays int

var databaseName = 'intake'
var serverless = capacityMode == 'Serverless'
var geo = enableGeoReplication && !serverless
var dataContributorRole = '00000000-0000-0000-0000-000000000002'
var secondsPerDay = 86400

var primaryRegion = [
  {
    locationName: location
    failoverPriority: 0
    isZoneRedundant: zoneRedundant
  }
]
var secondaryRegion = [
  {
    locationName: secondaryLocation
    failoverPriority: 1
    isZoneRedundant: zoneRedundant
  }
]

// Point reads only: nothing to index.
var pointReadIndexing = {
  indexingMode: 'consistent'
  automatic: true
  includedPaths: []
  excludedPaths: [
    {
      path: '/*'
    }
  ]
}

var containers = [
  {
    // Submissions and their outbox events share the /clientId partition, so one transactional
    // batch writes both; admin search filters and sorts on the indexed paths below.
    name: 'submissions'
    partitionKey: '/clientId'
    defaultTtl: -1
    indexingPolicy: {
      indexingMode: 'consistent'
      automatic: true
      includedPaths: [
        {
          path: '/*'
        }
      ]
      excludedPaths: [
        {
          path: '/engagement/scope/?'
        }
        {
          path: '/engagement/notes/?'
        }
        {
          path: '/"_etag"/?'
        }
      ]
      compositeIndexes: [
        [
          {
            path: '/status'
            order: 'ascending'
          }
          {
            path: '/submittedAt'
            order: 'descending'
          }
        ]
        [
          {
            path: '/industry'
            order: 'ascending'
          }
          {
            path: '/submittedAt'
            order: 'descending'
          }
        ]
        [
          {
            path: '/serviceType'
            order: 'ascending'
          }
          {
            path: '/submittedAt'
            order: 'descending'
          }
        ]
      ]
    }
  }
  {
    name: 'idempotency'
    partitionKey: '/key'
    defaultTtl: idempotencyTtlDays * secondsPerDay
    indexingPolicy: pointReadIndexing
  }
  {
    name: 'ledger'
    partitionKey: '/eventId'
    defaultTtl: ledgerTtlDays * secondsPerDay
    indexingPolicy: pointReadIndexing
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: geo ? concat(primaryRegion, secondaryRegion) : primaryRegion
    enableAutomaticFailover: geo
    enableMultipleWriteLocations: false
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: backupTier
      }
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    publicNetworkAccess: 'Disabled'
    networkAclBypass: 'None'
    minimalTlsVersion: 'Tls12'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [
            container.partitionKey
          ]
          kind: 'Hash'
          version: 2
        }
        defaultTtl: container.defaultTtl
        indexingPolicy: container.indexingPolicy
      }
    }
  }
]

resource dataContributors 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for principalId in dataContributorPrincipalIds: {
    parent: account
    name: guid(account.id, databaseName, principalId, dataContributorRole)
    properties: {
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRole}'
      principalId: principalId
      scope: '${account.id}/dbs/${databaseName}'
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
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
        category: 'Requests'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the account (private endpoint target).')
output accountId string = account.id

@description('Document endpoint of the account.')
output endpoint string = account.properties.documentEndpoint

@description('Name of the database.')
output databaseName string = databaseName
