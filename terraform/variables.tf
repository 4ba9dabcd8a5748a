variable "exoscale_key" {
  description = "Exoscale API key that Terraform uses (it never reaches any VM)."
  type        = string
  sensitive   = true
}

variable "exoscale_secret" {
  description = "Secret of exoscale_key."
  type        = string
  sensitive   = true
}

variable "zone" {
  description = "Exoscale zone for every resource."
  type        = string
  default     = "at-vie-1"

  # A pattern rather than a list, so that a zone Exoscale opens later needs no change here (the control plane's
  # EXOSCALE_ZONE check is the same pattern); the provider rejects a name that is not a zone.
  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]{2,4}-[0-9]+$", var.zone))
    error_message = "zone must be an Exoscale zone name such as at-vie-1, ch-dk-2 or de-fra-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name, so that several deployments can share an account."
  type        = string
  default     = "autoscaling"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name_prefix))
    error_message = "name_prefix must be 1-21 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "template_name" {
  description = "Name of the OS template for every VM (Ubuntu with cloud-init)."
  type        = string
  default     = "Linux Ubuntu 24.04 LTS 64-bit"
}

variable "pool_instance_type" {
  description = "Instance type of the pool members, as family.size."
  type        = string
  default     = "standard.micro"

  validation {
    condition     = can(regex("^[a-z0-9]+\\.[a-z0-9-]+$", var.pool_instance_type))
    error_message = "pool_instance_type must look like standard.micro (family.size)."
  }
}

variable "monitor_instance_type" {
  description = "Instance type of the monitoring VM (Prometheus, Grafana, control plane, and the image build)."
  type        = string
  default     = "standard.small"

  validation {
    condition     = can(regex("^[a-z0-9]+\\.[a-z0-9-]+$", var.monitor_instance_type))
    error_message = "monitor_instance_type must look like standard.small (family.size)."
  }
}

variable "pool_initial_size" {
  description = "Members at creation. Afterwards the control plane owns the size (Terraform ignores it)."
  type        = number
  default     = 2

  validation {
    condition     = var.pool_initial_size >= 1 && floor(var.pool_initial_size) == var.pool_initial_size
    error_message = "pool_initial_size must be a whole number >= 1."
  }
}

variable "pool_min_size" {
  description = "Smallest size the control plane scales the pool to."
  type        = number
  default     = 1

  validation {
    condition     = var.pool_min_size >= 1 && floor(var.pool_min_size) == var.pool_min_size
    error_message = "pool_min_size must be a whole number >= 1."
  }
}

variable "pool_max_size" {
  description = "Largest size the control plane scales the pool to (mind the account's quota)."
  type        = number
  default     = 15

  validation {
    condition     = var.pool_max_size >= 1 && var.pool_max_size <= 50 && floor(var.pool_max_size) == var.pool_max_size
    error_message = "pool_max_size must be a whole number between 1 and 50."
  }
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach Grafana (3000), Prometheus (9090) and the control plane (8090). Narrow it to your own address."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "admin_cidrs must be a non-empty list of CIDRs such as 203.0.113.7/32."
  }
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH into the VMs; empty (the default) opens no SSH port."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.ssh_cidrs : can(cidrhost(c, 0))])
    error_message = "ssh_cidrs must be a list of CIDRs."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed on the VMs when ssh_cidrs is set; empty for none."
  type        = string
  default     = ""
}

variable "repository_url" {
  description = "Git repository the monitoring VM clones the control plane and the monitoring configuration from. Empty: this checkout's origin (an ssh remote becomes https)."
  type        = string
  default     = ""

  validation {
    condition     = var.repository_url == "" || can(regex("^https://", var.repository_url))
    error_message = "repository_url must be empty or an https:// Git URL."
  }
}

variable "repository_ref" {
  description = "Branch, tag or commit of repository_url to deploy. Empty: this checkout's HEAD commit, which must be pushed to origin."
  type        = string
  default     = ""

  validation {
    condition     = var.repository_ref == "" || can(regex("^[A-Za-z0-9._/-]+$", var.repository_ref))
    error_message = "repository_ref must be empty or a branch, tag or commit name."
  }
}

variable "iam_scope_to_pool" {
  description = "Also restrict the control plane's key to this pool's id (uses an undocumented CEL binding; test before relying on it)."
  type        = bool
  default     = false
}

variable "create_control_plane_key" {
  description = "Create a least-privilege IAM role and API key for the control plane (needs a key that may manage IAM). false: the monitoring VM gets exoscale_key itself, as the course's grader needs (its key has no IAM rights)."
  type        = bool
  default     = true
}

variable "scaling_policy" {
  description = "The control plane's SCALING_POLICY: target (size the pool for the measured load in one call) or step (one member per signal, the course's rule)."
  type        = string
  default     = "target"

  validation {
    condition     = contains(["target", "step"], var.scaling_policy)
    error_message = "scaling_policy must be target or step."
  }
}
