// prod: autoscale Cosmos geo-replicated eastus -> eastus2 with 30-day point-in-time restore, Premium
// zone-redundant Service Bus behind a private endpoint, no Redis yet, our own egress firewall
// (the A10 landing zone has no hub firewall), WAF in Prevention, 99.9% SLO alerts.
using '../main.bicep'

param environmentName = 'prod'
param location = 'eastus'
param secondaryLocation = 'eastus2'
param namePrefix = 'intake'
param owner = 'platform-team'
param costCenter = 'sales-ops'

// A10 landing zone (amaramdotme/A10_Corp-terraform): rg-a10corp-sales-prod, vnet-a10corp-sales-prod.
param useLandingZone = true
param landingZoneOrg = 'a10corp'
param landingZoneEnvironment = 'prod'
param sharedSubscriptionId = readEnvironmentVariable('A10_SHARED_SUBSCRIPTION_ID', '')
param sharedResourceGroupName = 'rg-root-iac'
param existingRegistryName = 'acra10corpsales'
param existingLogAnalyticsWorkspaceName = 'log-a10corp-hq'
param hubFirewallPrivateIp = ''
param deployFirewall = true
param privateDnsZonesSubscriptionId = ''
param privateDnsZonesResourceGroupName = ''

// Matches workloads/environments/prod.tfvars; the last three subnets are this app's.
param vnetAddressPrefix = '10.2.0.0/16'
param aksSubnetPrefix = '10.2.0.0/22'
param ingressSubnetPrefix = '10.2.4.0/26'
param privateEndpointSubnetPrefix = '10.2.5.0/24'
param functionsSubnetPrefix = '10.2.6.0/24'
param firewallSubnetPrefix = '10.2.7.0/26'

param aksSkuTier = 'Standard'
param aksSystemNodeVmSize = 'Standard_D4s_v4'
param aksSystemNodeCount = 3
param aksUserNodeVmSize = 'Standard_D4s_v4'
param aksUserNodeMinCount = 3
param aksUserNodeMaxCount = 12
param aksEnableSpotPool = true
param aksSpotNodeVmSize = 'Standard_D2s_v3'
param aksSpotNodeMaxCount = 6
param aksApiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_ALLOWED_CIDRS'), ',')
param adminGroupObjectIds = empty(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''))
  ? []
  : split(readEnvironmentVariable('AKS_ADMIN_GROUP_IDS', ''), ',')
param kubernetesNamespace = 'onboarding-prod'

param cosmosCapacityMode = 'Autoscale'
param cosmosAutoscaleMaxThroughput = 4000
param cosmosZoneRedundant = true
param cosmosGeoReplication = true
param cosmosBackupTier = 'Continuous30Days'
param serviceBusSku = 'Premium'
param serviceBusPremiumCapacity = 1
// Off until the read cache can sign in with Entra ID: the cache has access keys off
// (redis.bicep) and the adapter knows only a key in REDIS_URL, so admin-api runs CACHE=none.
// The shape to switch on then is below (Premium P1, 3 zones).
param deployRedis = false
param redisSkuName = 'Premium'
param redisCapacity = 1

param functionMaximumInstanceCount = 40
param functionInstanceMemoryMB = 2048
param frontDoorSku = 'Premium_AzureFrontDoor'
param wafMode = 'Prevention'
param wafPostRateLimitPerMinute = 300
// Staff reach /admin from the office and the VPN only (Front Door's WAF checks it; the ingress
// cannot: it sees Front Door's addresses).
param staffAllowedSourceRanges = ['203.0.113.0/24', '198.51.100.0/24']
param emailDataLocation = 'United States'

param logRetentionDays = 90
param logDailyQuotaGb = -1
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL')
param pagerDutyWebhookUrl = readEnvironmentVariable('PAGERDUTY_WEBHOOK_URL', '')
param availabilitySlo = '0.999'
param outboxMaxAgeMinutes = 10
param notifyMinReplicas = 3
param queueBacklogThreshold = 50
// Where alerts link their runbooks ({alert}: the alert's name): infra.yml passes this
// repository's docs/runbooks; elsewhere the chart's default, unless RUNBOOK_URL is set.
param runbookUrl = readEnvironmentVariable('RUNBOOK_URL', 'https://github.com/example/onboarding/blob/main/docs/runbooks/{alert}.md')
// The object id of id-onboarding-deploy-prod (infra.yml passes the DEPLOY_PRINCIPAL_ID
// variable of infra-prod): Grafana Editor and Reader on the Grafana instance, for the dashboard
// import of deploy-env.yml. Empty: no one is given them, and CD cannot import it.
param deployPrincipalId = readEnvironmentVariable('DEPLOY_PRINCIPAL_ID', '')
param monthlyBudget = 6000
param budgetStartDate = '2025-12-01'
param enableChaosExperiment = false
