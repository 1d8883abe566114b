// Spoke network for the app. Standalone: creates the VNet with every subnet the app needs.
// Landing zone: the VNet and its aks-nodes / ingress subnets already exist (A10 Terraform);
// only the extra subnets this app needs are added, one after the other (parallel subnet writes
// on one VNet conflict). When egress goes through a firewall, a route table sends 0.0.0.0/0 to it.

@description('Azure region of the network resources.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('True to reuse the landing-zone VNet instead of creating one.')
param useExistingVnet bool

@description('Name of the VNet (created, or existing in this resource group).')
@minLength(2)
@maxLength(64)
param vnetName string

@description('Address space of the VNet when it is created here.')
@minLength(9)
@maxLength(18)
param vnetAddressPrefix string

@description('Prefix of every subnet name, e.g. snet-a10corp-sales-dev.')
@minLength(2)
@maxLength(60)
param subnetNamePrefix string

@description('CIDR of the AKS nodes subnet (existing in landing-zone mode: must match it).')
@minLength(9)
@maxLength(18)
param aksSubnetPrefix string

@description('CIDR of the ingress subnet (internal load balancers).')
@minLength(9)
@maxLength(18)
param ingressSubnetPrefix string

@description('CIDR of the private endpoints subnet.')
@minLength(9)
@maxLength(18)
param privateEndpointSubnetPrefix string

@description('CIDR of the Function App VNet integration subnet (delegated to Microsoft.App/environments).')
@minLength(9)
@maxLength(18)
param functionsSubnetPrefix string

@description('CIDR of AzureFirewallSubnet; empty when no firewall of our own is deployed.')
@maxLength(18)
param firewallSubnetPrefix string

@description('Next hop for 0.0.0.0/0 from the AKS nodes (a firewall private IP); empty for the AKS load balancer.')
@maxLength(15)
param egressNextHopIp string

var aksSubnetName = '${subnetNamePrefix}-aks-nodes'
var ingressSubnetName = '${subnetNamePrefix}-ingress'
var peSubnetName = '${subnetNamePrefix}-private-endpoints'
var functionsSubnetName = '${subnetNamePrefix}-functions'
var useFirewallRoute = !empty(egressNextHopIp)

resource routeTable 'Microsoft.Network/routeTables@2024-05-01' = if (useFirewallRoute) {
  name: 'rt-${subnetNamePrefix}-egress'
  location: location
  tags: tags
  properties: {
    disableBgpRoutePropagation: true
    routes: [
      {
        name: 'default-via-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: egressNextHopIp
        }
      }
    ]
  }
}

resource peNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${peSubnetName}'
  location: location
  tags: tags
  properties: {
    securityRules: [
      {
        name: 'allow-vnet-https'
        properties: {
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: 'VirtualNetwork'
          sourcePortRange: '*'
          destinationAddressPrefix: 'VirtualNetwork'
          destinationPortRanges: [
            '443'
            '6380'
            '5671'
            '5672'
          ]
        }
      }
      {
        name: 'deny-all-inbound'
        properties: {
          priority: 4096
          direction: 'Inbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource functionsNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${functionsSubnetName}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

var aksSubnetProperties = {
  addressPrefix: aksSubnetPrefix
  routeTable: useFirewallRoute ? { id: routeTable.id } : null
}
var peSubnetProperties = {
  addressPrefix: privateEndpointSubnetPrefix
  networkSecurityGroup: { id: peNsg.id }
  privateEndpointNetworkPolicies: 'Enabled'
}
var functionsSubnetProperties = {
  addressPrefix: functionsSubnetPrefix
  networkSecurityGroup: { id: functionsNsg.id }
  delegations: [
    {
      name: 'flex-consumption'
      properties: {
        serviceName: 'Microsoft.App/environments'
      }
    }
  ]
}

var baseSubnets = [
  {
    name: aksSubnetName
    properties: aksSubnetProperties
  }
  {
    name: ingressSubnetName
    properties: {
      addressPrefix: ingressSubnetPrefix
    }
  }
  {
    name: peSubnetName
    properties: peSubnetProperties
  }
  {
    name: functionsSubnetName
    properties: functionsSubnetProperties
  }
]
var firewallSubnets = empty(firewallSubnetPrefix) ? [] : [
  {
    name: 'AzureFirewallSubnet'
    properties: {
      addressPrefix: firewallSubnetPrefix
    }
  }
]

// Standalone: one VNet with every subnet inline, so a redeploy never drops an association.
resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = if (!useExistingVnet) {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        vnetAddressPrefix
      ]
    }
    subnets: concat(baseSubnets, firewallSubnets)
  }
}

// Landing zone: the VNet is owned by the A10 Terraform; we add our subnets to it.
resource lzVnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = if (useExistingVnet) {
  name: vnetName
}

resource lzPeSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' = if (useExistingVnet) {
  parent: lzVnet
  name: peSubnetName
  properties: peSubnetProperties
}

resource lzFunctionsSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' = if (useExistingVnet) {
  parent: lzVnet
  name: functionsSubnetName
  properties: functionsSubnetProperties
  dependsOn: [
    lzPeSubnet
  ]
}

resource lzFirewallSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' = if (useExistingVnet && !empty(firewallSubnetPrefix)) {
  parent: lzVnet
  name: 'AzureFirewallSubnet'
  properties: {
    addressPrefix: firewallSubnetPrefix
  }
  dependsOn: [
    lzFunctionsSubnet
  ]
}

// Re-declared only to attach the egress route table; its prefix must match the landing zone's.
resource lzAksSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' = if (useExistingVnet && useFirewallRoute) {
  parent: lzVnet
  name: aksSubnetName
  properties: aksSubnetProperties
  dependsOn: [
    lzFunctionsSubnet
    lzFirewallSubnet
  ]
}

var vnetId = resourceId('Microsoft.Network/virtualNetworks', vnetName)

@description('Resource id of the VNet.')
output vnetId string = vnetId

@description('Resource id of the AKS nodes subnet.')
output aksSubnetId string = '${vnetId}/subnets/${aksSubnetName}'

@description('Name of the ingress subnet, for the internal load balancer annotation.')
output ingressSubnetName string = ingressSubnetName

@description('Resource id of the private endpoints subnet.')
output privateEndpointSubnetId string = useExistingVnet ? lzPeSubnet.id : '${vnetId}/subnets/${peSubnetName}'

@description('Resource id of the Function App integration subnet.')
output functionsSubnetId string = useExistingVnet ? lzFunctionsSubnet.id : '${vnetId}/subnets/${functionsSubnetName}'

@description('Resource id of AzureFirewallSubnet, empty without a firewall of our own.')
output firewallSubnetId string = empty(firewallSubnetPrefix) ? '' : '${vnetId}/subnets/AzureFirewallSubnet'

@description('Resource id of the egress route table, empty when egress uses the AKS load balancer.')
output routeTableId string = useFirewallRoute ? routeTable.id : ''
