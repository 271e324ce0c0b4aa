import { defineCommand } from '../command.js';

export default defineCommand({
  name: 'deploy',
  summary: 'not built yet',
  usage: 'sprout deploy',
  options: {},
});
