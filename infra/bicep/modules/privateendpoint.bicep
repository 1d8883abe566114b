// One private endpoint and its DNS zone group: the resource gets a private IP in the private
// endpoints subnet and its privatelink name resolves to it.

@description('Azure region of the endpoint (the VNet region).')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Endpoint name.')
@minLength(3)
@maxLength(80)
param endpointName string

@description('Resource id of the private endpoints subnet.')
@minLength(10)
param subnetId string

@description('Resource id of the target resource.')
@minLength(10)
param targetResourceId string

@description('Sub-resource (group id) of the target, e.g. Sql, namespace, vault, redisCache, blob.')
@allowed([
  'Sql'
  'namespace'
  'vault'
  'redisCache'
  'blob'
])
param groupId string

@description('Resource id of the private DNS zone for that group.')
@minLength(10)
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: endpointName
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: endpointName
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: replace(last(split(privateDnsZoneId, '/')), '.', '-')
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

@description('Resource id of the endpoint.')
output endpointId string = endpoint.id
