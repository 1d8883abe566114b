// Optional egress firewall of our own, for subscriptions without a landing-zone hub firewall.
// Only what AKS and the app need leaves the VNet: the AKS FQDN tag, Azure Monitor, the Entra
// login endpoints and the Azure services the pods call (private endpoints cover data traffic).

@description('Azure region of the firewall.')
@allowed([
  'eastus'
  'eastus2'
])
param location string

@description('Tags applied to every resource.')
param tags object

@description('Name stem used for the firewall, its policy and its public IP.')
@minLength(3)
@maxLength(60)
param nameStem string

@description('Resource id of AzureFirewallSubnet.')
@minLength(10)
param firewallSubnetId string

@description('CIDR of the AKS nodes subnet, the only source allowed out.')
@minLength(9)
@maxLength(18)
param aksSubnetPrefix string

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

// Entra ID sign-in host of this cloud (login.microsoftonline.com in the public cloud).
var entraLoginHost = replace(replace(environment().authentication.loginEndpoint, 'https://', ''), '/', '')

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-${nameStem}-fw'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  zones: [
    '1'
    '2'
    '3'
  ]
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource policy 'Microsoft.Network/firewallPolicies@2024-05-01' = {
  name: 'afwp-${nameStem}'
  location: location
  tags: tags
  properties: {
    sku: {
      tier: 'Standard'
    }
    threatIntelMode: 'Deny'
    dnsSettings: {
      enableProxy: true
    }
  }
}

resource egressRules 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-05-01' = {
  parent: policy
  name: 'aks-egress'
  properties: {
    priority: 200
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'aks-network'
        priority: 100
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'NetworkRule'
            name: 'ntp'
            ipProtocols: [
              'UDP'
            ]
            sourceAddresses: [
              aksSubnetPrefix
            ]
            destinationAddresses: [
              '*'
            ]
            destinationPorts: [
              '123'
            ]
          }
          {
            ruleType: 'NetworkRule'
            name: 'azure-monitor'
            ipProtocols: [
              'TCP'
            ]
            sourceAddresses: [
              aksSubnetPrefix
            ]
            destinationAddresses: [
              'AzureMonitor'
            ]
            destinationPorts: [
              '443'
            ]
          }
        ]
      }
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'aks-application'
        priority: 200
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'ApplicationRule'
            name: 'aks-required'
            sourceAddresses: [
              aksSubnetPrefix
            ]
            fqdnTags: [
              'AzureKubernetesService'
            ]
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
              {
                protocolType: 'Http'
                port: 80
              }
            ]
          }
          {
            ruleType: 'ApplicationRule'
            name: 'azure-apis'
            sourceAddresses: [
              aksSubnetPrefix
            ]
            targetFqdns: [
              entraLoginHost
              '*.azurecr.io'
              '*.communication.azure.com'
              '*.in.applicationinsights.azure.com'
              '*.livediagnostics.monitor.azure.com'
            ]
            protocols: [
              {
                protocolType: 'Https'
                port: 443
              }
            ]
          }
        ]
      }
    ]
  }
}

resource firewall 'Microsoft.Network/azureFirewalls@2024-05-01' = {
  // checkov:skip=CKV_AZURE_216: threat intelligence is set to Deny on the firewall policy, which governs a policy-attached firewall
  name: 'afw-${nameStem}'
  location: location
  tags: tags
  zones: [
    '1'
    '2'
    '3'
  ]
  properties: {
    sku: {
      name: 'AZFW_VNet'
      tier: 'Standard'
    }
    firewallPolicy: {
      id: policy.id
    }
    ipConfigurations: [
      {
        name: 'ipconfig'
        properties: {
          subnet: {
            id: firewallSubnetId
          }
          publicIPAddress: {
            id: publicIp.id
          }
        }
      }
    ]
  }
  dependsOn: [
    egressRules
  ]
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: firewall
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

@description('Private IP of the firewall (the next hop of the egress route table).')
output privateIp string = firewall.properties.ipConfigurations[0].properties.privateIPAddress
