import type { ElicitRequestFormParams } from '@modelcontextprotocol/server';

export type RequestedSchema = ElicitRequestFormParams['requestedSchema'];

/** The form `test_elicitation` asks the user to fill in. */
export const CONTACT_FORM: RequestedSchema = {
  type: 'object',
  properties: {
    username: { type: 'string', description: "User's response" },
    email: { type: 'string', description: "User's email address" },
  },
  required: ['username', 'email'],
};

/** SEP-1034: a default value for every primitive type, including a string enum. */
export const DEFAULTS_FORM: RequestedSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Name', description: 'Full name', default: 'John Doe' },
    age: { type: 'integer', title: 'Age', description: 'Age in years', minimum: 0, maximum: 150, default: 30 },
    score: { type: 'number', title: 'Score', description: 'Test score', minimum: 0, maximum: 100, default: 95.5 },
    status: {
      type: 'string',
      title: 'Status',
      description: 'Account status',
      enum: ['active', 'inactive', 'pending'],
      default: 'active',
    },
    verified: { type: 'boolean', title: 'Verified', description: 'Whether the account is verified', default: true },
  },
};

/** SEP-1330: the five ways to express a choice, one property each. */
export const ENUMS_FORM: RequestedSchema = {
  type: 'object',
  properties: {
    untitledSingle: {
      type: 'string',
      title: 'Untitled single choice',
      enum: ['option1', 'option2', 'option3'],
    },
    titledSingle: {
      type: 'string',
      title: 'Titled single choice',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: {
      type: 'string',
      title: 'Legacy titled choice',
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: {
      type: 'array',
      title: 'Untitled multiple choice',
      items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    },
    titledMulti: {
      type: 'array',
      title: 'Titled multiple choice',
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
};

/** How the elicitation tools report what the user did. */
export function describeElicitation(result: { action: string; content?: Record<string, unknown> }): string {
  return `action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
}
