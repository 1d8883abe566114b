// Monthly cost budget on the app's resource group with actual and forecast alerts.

@description('Budget name.')
@minLength(3)
@maxLength(63)
param budgetName string

@description('Monthly amount in the billing currency.')
@minValue(10)
@maxValue(1000000)
param amount int

@description('First day of the first budget month, yyyy-MM-01.')
@minLength(10)
@maxLength(10)
param startDate string

@description('Email addresses notified.')
@minLength(1)
@maxLength(10)
param contactEmails array

@description('Resource id of the action group notified.')
@minLength(10)
param actionGroupId string

resource budget 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: budgetName
  properties: {
    category: 'Cost'
    amount: amount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: startDate
    }
    notifications: {
      actual50: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 50
        thresholdType: 'Actual'
        contactEmails: contactEmails
      }
      actual90: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 90
        thresholdType: 'Actual'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
      forecast100: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 100
        thresholdType: 'Forecasted'
        contactEmails: contactEmails
        contactGroups: [
          actionGroupId
        ]
      }
    }
  }
}
