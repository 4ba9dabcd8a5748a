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
  description = "Instance type of the pool members, as family.size (also the default of each entry of pools)."
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
  description = "Members at creation. Afterwards the control plane owns the size (Terraform ignores it). Used when pools is null."
  type        = number
  default     = 2

  validation {
    condition     = var.pool_initial_size >= 1 && floor(var.pool_initial_size) == var.pool_initial_size
    error_message = "pool_initial_size must be a whole number >= 1."
  }
}

variable "pool_min_size" {
  description = "Smallest size the control plane scales the pool to. Used when pools is null."
  type        = number
  default     = 1

  validation {
    condition     = var.pool_min_size >= 1 && floor(var.pool_min_size) == var.pool_min_size
    error_message = "pool_min_size must be a whole number >= 1."
  }
}

variable "pool_max_size" {
  description = "Largest size the control plane scales the pool to (mind the account's quota). Used when pools is null."
  type        = number
  default     = 15

  validation {
    condition     = var.pool_max_size >= 1 && var.pool_max_size <= 50 && floor(var.pool_max_size) == var.pool_max_size
    error_message = "pool_max_size must be a whole number between 1 and 50."
  }
}

variable "pools" {
  description = <<-EOT
    The instance pools, by name (the pool's name in alerts, metrics and the control plane's URLs: a-z, 0-9 and '-').
    Each gets its own instance pool and its own service on the one load balancer, on its own port (port, 80 unless
    set; one NLB holds at most 10 services, so at most 10 pools), and an entry in the control plane's pools file:
    min and max bound the size, size is the size at creation (min unless set), instance_type defaults to
    pool_instance_type, settings are the control plane's per-pool overrides by their environment names, e.g.
    { TARGET_UTILIZATION = "0.5", SCALING_POLICY = "step" }. null (the default): one pool named "default" from
    pool_min_size, pool_max_size, pool_initial_size and pool_instance_type, exactly the single pool of before.
  EOT
  type = map(object({
    min           = number
    max           = number
    size          = optional(number)
    instance_type = optional(string)
    port          = optional(number, 80)
    settings      = optional(map(string), {})
  }))
  default = null

  # Conditionals rather than ||, which does not short-circuit before Terraform 1.12 (length(null) would fail).
  validation {
    condition     = var.pools == null ? true : length(var.pools) >= 1 && length(var.pools) <= 10
    error_message = "pools must hold 1 to 10 pools (the load balancer takes at most 10 services), or be null for the single pool of the pool_* variables."
  }
  validation {
    condition     = var.pools == null ? true : alltrue([for name in keys(var.pools) : can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", name))])
    error_message = "Each pool name must be 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'."
  }
  validation {
    condition = var.pools == null ? true : alltrue([
      for p in values(var.pools) :
      p.min >= 1 && p.max <= 50 && p.min <= p.max && floor(p.min) == p.min && floor(p.max) == p.max
    ])
    error_message = "Each pool needs whole numbers 1 <= min <= max <= 50."
  }
  validation {
    condition = var.pools == null ? true : alltrue([
      for p in values(var.pools) : p.size == null ? true : p.size >= 1 && p.size <= p.max && floor(p.size) == p.size
    ])
    error_message = "A pool's size (at creation) must be a whole number between 1 and its max."
  }
  validation {
    condition = var.pools == null ? true : alltrue([
      for p in values(var.pools) : p.instance_type == null ? true : can(regex("^[a-z0-9]+\\.[a-z0-9-]+$", p.instance_type))
    ])
    error_message = "A pool's instance_type must look like standard.micro (family.size)."
  }
  validation {
    condition = var.pools == null ? true : alltrue([
      for p in values(var.pools) : p.port >= 1 && p.port <= 65535 && floor(p.port) == p.port
    ]) && length(distinct([for p in values(var.pools) : p.port])) == length(var.pools)
    error_message = "Each pool needs its own load balancer port (1-65535; port defaults to 80, so set it on all pools but one)."
  }
  validation {
    condition = var.pools == null ? true : alltrue(flatten([
      for p in values(var.pools) : [for key in keys(p.settings) : can(regex("^[A-Z][A-Z0-9_]*$", key))]
    ]))
    error_message = "A pool's settings are the control plane's environment names, such as TARGET_UTILIZATION."
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
  description = "Also restrict the control plane's key to the ids of these pools (uses an undocumented CEL binding; test before relying on it)."
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

variable "control_plane_replicas" {
  description = "Control-plane replicas: 1 (the default: one on the monitoring VM, state in files, exactly the deployment of before) or 2 (a second control-plane VM and an Exoscale DBaaS PostgreSQL for the shared state and the leader lease; only the leader scales)."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.control_plane_replicas)
    error_message = "control_plane_replicas must be 1 or 2."
  }
}

variable "control_plane_second_zone" {
  description = "Zone of the second control-plane VM when control_plane_replicas is 2, e.g. at-vie-2 beside at-vie-1; empty (the default): zone. The database stays in zone, with the pools."
  type        = string
  default     = ""

  validation {
    condition     = var.control_plane_second_zone == "" || can(regex("^[a-z]{2}-[a-z]{2,4}-[0-9]+$", var.control_plane_second_zone))
    error_message = "control_plane_second_zone must be empty or an Exoscale zone name such as at-vie-2."
  }
}

variable "database_plan" {
  description = "Plan of the DBaaS PostgreSQL when control_plane_replicas is 2 (exo dbaas type show pg --plans): hobbyist-2 (the default) is one node; a business-* plan adds a standby."
  type        = string
  default     = "hobbyist-2"

  validation {
    condition     = can(regex("^[a-z]+-[0-9]+$", var.database_plan))
    error_message = "database_plan must be an Exoscale DBaaS plan name such as hobbyist-2 or business-4."
  }
}
