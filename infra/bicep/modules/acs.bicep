// Communication Services Email for the mailer: an Email service with an Azure-managed sender
// domain, linked to a Communication Services resource. Notify sends with its managed identity
// through a narrow custom role (read the resource, send email) instead of Contributor.

@description('Tags applied to every resource.')
param tags object

@description('Name stem for the Communication and Email service resources.')
@minLength(3)
@maxLength(50)
param nameStem string

@description('Where the email data is stored at rest.')
@allowed([
  'United States'
  'Europe'
])
param dataLocation string

@description('Principal ids allowed to send email.')
@maxLength(10)
param senderPrincipalIds array

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: 'ecs-${nameStem}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: 'acs-${nameStem}'
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      managedDomain.id
    ]
  }
}

resource emailSenderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'acs-email-sender')
  properties: {
    roleName: 'ACS Email Sender (${nameStem})'
    description: 'Send email through Azure Communication Services with Entra ID, nothing else.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in senderPrincipalIds: {
    name: guid(communication.id, principalId, emailSenderRole.id)
    scope: communication
    properties: {
      roleDefinitionId: emailSenderRole.id
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

@description('Endpoint of Communication Services (the EmailClient endpoint).')
output endpoint string = 'https://${communication.properties.hostName}'

@description('Sender address on the Azure-managed domain.')
output senderAddress string = 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
