// The notify Function App on Flex Consumption (Python 3.11), integrated in the VNet, running as
// the notify user-assigned identity: identity-based host storage, identity-based Service Bus
// trigger connection, Entra-authenticated Application Insights. No keys or connection strings.

@description('Azure region of the Function App.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Globally unique Function App name.')
@minLength(2)
@maxLength(60)
param appName string

@description('Globally unique name of the host/deployment storage account.')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Resource id of the notify user-assigned identity.')
@minLength(10)
param identityId string

@description('Client id of the notify user-assigned identity.')
@minLength(36)
@maxLength(36)
param identityClientId string

@description('Principal id of the notify user-assigned identity.')
@minLength(36)
@maxLength(36)
param identityPrincipalId string

@description('Resource id of the VNet integration subnet.')
@minLength(10)
param integrationSubnetId string

@description('Name of the Application Insights resource in this resource group.')
@minLength(1)
@maxLength(260)
param appInsightsName string

@description('Fully qualified Service Bus namespace, for the identity-based trigger connection.')
@minLength(10)
@maxLength(100)
param serviceBusNamespaceFqdn string

@description('Upper bound of instances (caps cost and downstream pressure).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Application settings of the notify handler as name/value pairs (endpoints and switches, no secrets).')
@maxLength(50)
param appSettings array

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

var deploymentContainer = 'deployments'
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_206: zone-redundant (ZRS); it only holds the deployment package and host leases, rebuilt by a redeploy
  // checkov:skip=CKV_AZURE_43: the name is computed (st + prefix + env + suffix, lowercased and cut to 24); checkov cannot evaluate it
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

// The Functions host keeps its leases and keys in blobs: the documented role for identity-based
// host storage is Storage Blob Data Owner, scoped to this one account (not the Owner role).
resource hostStorageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, blobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Flex Consumption scales per event across the region; notify is asynchronous and retried by Service Bus
  name: 'asp-${appName}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var identitySettings = [
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storage.name
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'ServiceBusConnection__fullyQualifiedNamespace'
    value: serviceBusNamespaceFqdn
  }
  {
    name: 'ServiceBusConnection__credential'
    value: 'managedidentity'
  }
  {
    name: 'ServiceBusConnection__clientId'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_17: notify has no HTTP trigger and the main site denies every caller; there is no client to present a certificate
  // checkov:skip=CKV_AZURE_212: scale-to-zero is intended for a queue-triggered function; Service Bus holds messages while it scales out
  // checkov:skip=CKV_AZURE_222: CI publishes through the SCM endpoint with Entra ID; the main site denies all callers (ipSecurityRestrictionsDefaultAction)
  // checkov:skip=CKV_AZURE_213: no HTTP endpoint to probe; health is the dead-letter and outbox alerts
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    // The app has no HTTP trigger: the main site denies every caller. The deployment (SCM)
    // endpoint stays reachable for CI, which signs in with Entra ID (basic auth is off below).
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: integrationSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      vnetRouteAllEnabled: true
      ipSecurityRestrictionsDefaultAction: 'Deny'
      scmIpSecurityRestrictionsDefaultAction: 'Allow'
      scmIpSecurityRestrictionsUseMain: false
      appSettings: concat(appSettings, identitySettings)
    }
  }
  dependsOn: [
    hostStorageAccess
    deployments
  ]
}

resource noFtpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource noScmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

@description('Function App name.')
output appName string = app.name

@description('Resource id of the host storage account (private endpoint target).')
output storageAccountId string = storage.id
