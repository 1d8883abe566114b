// Private DNS zones for every private endpoint. In a landing zone the hub usually owns them
// (pass their resource group) and links them to the spoke itself; standalone creates them here
// and links them to the app VNet.

@description('Tags applied to every resource.')
param tags object

@description('True to create the zones here; false to use the landing zone ones.')
param createZones bool

@description('Subscription id holding existing zones (landing zone mode).')
@maxLength(36)
param existingZonesSubscriptionId string

@description('Resource group holding existing zones (landing zone mode).')
@maxLength(90)
param existingZonesResourceGroupName string

@description('Resource id of the VNet linked to zones created here.')
@minLength(10)
param vnetId string

var zoneNames = {
  cosmos: 'privatelink.documents.azure.com'
  servicebus: 'privatelink.servicebus.windows.net'
  keyvault: 'privatelink.vaultcore.azure.net'
  redis: 'privatelink.redis.cache.windows.net'
  blob: 'privatelink.blob.${environment().suffixes.storage}'
}
var zoneList = [
  zoneNames.cosmos
  zoneNames.servicebus
  zoneNames.keyvault
  zoneNames.redis
  zoneNames.blob
]

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in zoneList: if (createZones) {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in zoneList: if (createZones) {
    parent: zones[i]
    name: 'link-${last(split(vnetId, '/'))}'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnetId
      }
    }
  }
]

var existingZoneRoot = '/subscriptions/${existingZonesSubscriptionId}/resourceGroups/${existingZonesResourceGroupName}'
var zoneRoot = createZones ? resourceGroup().id : existingZoneRoot

@description('Resource id of each zone, by service.')
output zoneIds object = {
  cosmos: '${zoneRoot}/providers/Microsoft.Network/privateDnsZones/${zoneNames.cosmos}'
  servicebus: '${zoneRoot}/providers/Microsoft.Network/privateDnsZones/${zoneNames.servicebus}'
  keyvault: '${zoneRoot}/providers/Microsoft.Network/privateDnsZones/${zoneNames.keyvault}'
  redis: '${zoneRoot}/providers/Microsoft.Network/privateDnsZones/${zoneNames.redis}'
  blob: '${zoneRoot}/providers/Microsoft.Network/privateDnsZones/${zoneNames.blob}'
}
