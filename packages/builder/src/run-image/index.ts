export { assembleRunImage, NODE_PATH_IN_IMAGE, type AssembleOptions, type RunImage } from './assemble.js';
export { pulledRunImage } from './pulled.js';
