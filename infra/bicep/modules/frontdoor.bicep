// Azure Front Door (Premium) with a WAF policy in front of the public ingress of the cluster.
// Static assets are cached at the edge; everything else goes to the origin uncached. The
// origin is public, so the WAF holds only if the origin refuses what did not come through this
// profile: its load balancer admitting only the AzureFrontDoor.Backend service tag
// (docs/deploy-azure.md, "Cluster add-ons"), and the ingress requiring this profile's
// X-Azure-FDID (output below; the chart's ingress.frontDoor.id, a ModSecurity rule).

@description('Tags applied to every resource.')
param tags object

@description('Name stem, e.g. intake-dev-eus.')
@minLength(3)
@maxLength(40)
param nameStem string

@description('Globally unique endpoint name (becomes <name>-<hash>.z01.azurefd.net).')
@minLength(3)
@maxLength(46)
param endpointName string

@description('WAF policy name (letters and digits only).')
@minLength(3)
@maxLength(128)
param wafPolicyName string

@description('Front Door tier; managed WAF rule sets need Premium.')
@allowed([
  'Premium_AzureFrontDoor'
  'Standard_AzureFrontDoor'
])
param skuName string

@description('WAF mode: Detection only logs, Prevention blocks.')
@allowed([
  'Detection'
  'Prevention'
])
param wafMode string

@description('Requests per minute one client IP may POST before it is blocked.')
@minValue(10)
@maxValue(10000)
param postRateLimitPerMinute int

@description('Address ranges (CIDR) staff may open /admin from, matched on the address that connects to Front Door; empty: from anywhere (the Entra ID sign-in still applies).')
@maxLength(50)
param staffAllowedSourceRanges array = []

@description('Host name of the public ingress of the cluster (the origin).')
@minLength(4)
@maxLength(253)
param originHostName string

@description('Resource id of the Log Analytics workspace for diagnostics.')
@minLength(10)
param logAnalyticsWorkspaceId string

var premium = skuName == 'Premium_AzureFrontDoor'

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2024-02-01' = {
  name: wafPolicyName
  location: 'Global'
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: wafMode
      requestBodyCheck: 'Enabled'
    }
    customRules: {
      // The staff pages' allow-list lives here, not on the ingress: behind Front Door the
      // ingress sees Front Door's addresses, never the staff member's. SocketAddr is the address
      // that connected to Front Door (RemoteAddr would trust a client's X-Forwarded-For).
      rules: concat(empty(staffAllowedSourceRanges) ? [] : [
        {
          name: 'StaffPagesFromAllowedRangesOnly'
          priority: 90
          enabledState: 'Enabled'
          ruleType: 'MatchRule'
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Contains'
              negateCondition: false
              matchValue: [
                '/admin'
              ]
              transforms: [
                'Lowercase'
              ]
            }
            {
              matchVariable: 'SocketAddr'
              operator: 'IPMatch'
              negateCondition: true
              matchValue: staffAllowedSourceRanges
            }
          ]
        }
      ], [
        {
          name: 'LimitPostsPerClient'
          priority: 100
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: postRateLimitPerMinute
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestMethod'
              operator: 'Equal'
              negateCondition: false
              matchValue: [
                'POST'
              ]
            }
          ]
        }
      ])
    }
    managedRules: {
      managedRuleSets: premium ? [
        {
          ruleSetType: 'Microsoft_DefaultRuleSet'
          ruleSetVersion: '2.1'
          ruleSetAction: 'Block'
        }
        {
          ruleSetType: 'Microsoft_BotManagerRuleSet'
          ruleSetVersion: '1.1'
        }
      ] : []
    }
  }
}

resource profile 'Microsoft.Cdn/profiles@2024-02-01' = {
  name: 'afd-${nameStem}'
  location: 'global'
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    originResponseTimeoutSeconds: 60
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-02-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-02-01' = {
  parent: profile
  name: 'aks-ingress'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    healthProbeSettings: {
      probePath: '/healthz'
      probeRequestType: 'GET'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 60
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-02-01' = {
  parent: originGroup
  name: 'ingress'
  properties: {
    hostName: originHostName
    originHostHeader: originHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

resource staticRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'static-assets'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    patternsToMatch: [
      '/static/*'
    ]
    supportedProtocols: [
      'Https'
    ]
    httpsRedirect: 'Disabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    cacheConfiguration: {
      queryStringCachingBehavior: 'IgnoreQueryString'
      compressionSettings: {
        isCompressionEnabled: true
        contentTypesToCompress: [
          'text/css'
          'application/javascript'
          'image/svg+xml'
        ]
      }
    }
  }
  dependsOn: [
    origin
  ]
}

resource defaultRoute 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-02-01' = {
  parent: endpoint
  name: 'app'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    patternsToMatch: [
      '/*'
    ]
    supportedProtocols: [
      'Http'
      'Https'
    ]
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
  }
  dependsOn: [
    staticRoute
  ]
}

resource securityPolicy 'Microsoft.Cdn/profiles/securityPolicies@2024-02-01' = {
  parent: profile
  name: 'waf'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: waf.id
      }
      associations: [
        {
          domains: [
            {
              id: endpoint.id
            }
          ]
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: profile
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'FrontDoorAccessLog'
        enabled: true
      }
      {
        category: 'FrontDoorWebApplicationFirewallLog'
        enabled: true
      }
      {
        category: 'FrontDoorHealthProbeLog'
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

@description('Public host name of the endpoint.')
output endpointHostName string = endpoint.properties.hostName

@description('Front Door id the ingress must require in the X-Azure-FDID header.')
output frontDoorId string = profile.properties.frontDoorId
