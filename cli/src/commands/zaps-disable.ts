import { zapStateCommand } from '../zap-state.ts'

export const zapsDisableCommand = () => zapStateCommand(false)
